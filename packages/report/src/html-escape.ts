const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escape text for HTML element content and quoted attribute values alike.
 * Everything drawn from a store goes through it: processor names, error
 * messages and requester names are user data.
 */
export const escapeHtml = (value: unknown): string => String(value).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);

/** A tagged template that escapes every interpolation except `Raw` values made by `raw()`. */
export interface Raw {
  readonly __html: string;
}
export const raw = (html: string): Raw => ({ __html: html });

const isRaw = (v: unknown): v is Raw => typeof v === 'object' && v !== null && '__html' in v;

export const html = (strings: TemplateStringsArray, ...values: readonly unknown[]): Raw => {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    const piece = Array.isArray(v)
      ? v.map((x) => (isRaw(x) ? x.__html : escapeHtml(x))).join('')
      : isRaw(v)
        ? v.__html
        : v === null || v === undefined || v === false
          ? ''
          : escapeHtml(v);
    out += piece + (strings[i + 1] ?? '');
  });
  return raw(out);
};
