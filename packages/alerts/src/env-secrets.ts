import type { ConfigProblem } from './errors.js';

/** Where secrets come from: `process.env` by default, a plain record in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A value read from an environment variable, optionally prefixed (`Bearer `). */
export interface EnvRef {
  readonly env: string;
  readonly prefix?: string | undefined;
}

/** A header value: plain text for harmless headers, an `EnvRef` for secrets. */
export type HeaderValue = string | EnvRef;

export interface Resolved<A> {
  readonly value: A | undefined;
  /** Strings that must never appear in an error or log line. */
  readonly secrets: readonly string[];
  readonly problems: readonly ConfigProblem[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Headers whose plain-text values would be secrets sitting in a config file. */
export const SECRET_HEADER = /authorization|token|secret|password|api[-_]?key|signature|cookie|credential/i;

export const readEnv = (env: Env, name: string, path: string): { value?: string; problem?: ConfigProblem } => {
  if (!ENV_NAME.test(name)) return { problem: { path, message: `"${name}" is not an environment variable name (letters, digits, _)` } };
  const value = env[name];
  if (value === undefined || value.trim() === '')
    return { problem: { path, message: `environment variable ${name} is not set`, unsetEnv: name } };
  return { value: value.trim() };
};

/**
 * Everything in a URL that could be a credential: the URL itself, its path and
 * query (Slack puts the token in the path) and any user info. The host stays
 * readable so an error can still say where it failed.
 */
export const urlSecrets = (url: string): string[] => {
  const out = [url];
  try {
    const u = new URL(url);
    out.push(u.href, `${u.pathname}${u.search}`, u.search, u.username, u.password);
    if (u.pathname.length > 1) out.push(u.pathname, decodeURIComponent(u.pathname));
  } catch {
    // not a URL: the whole string is already listed
  }
  return out.filter((s) => s.length >= 4);
};

/**
 * The webhook URL from `url` or from the environment variable `urlEnv`.
 * Exactly one must be given; the URL must be http(s). Problems never quote the
 * value (it is a secret), only the variable's name.
 */
export const resolveUrl = (
  opts: { readonly url?: string | undefined; readonly urlEnv?: string | undefined },
  env: Env,
  path: string,
): Resolved<URL> => {
  const join = (key: string): string => (path === '' ? key : `${path}.${key}`);
  if (opts.url !== undefined && opts.urlEnv !== undefined) {
    return {
      value: undefined,
      secrets: urlSecrets(opts.url),
      problems: [{ path: join('url'), message: 'give either "url" or "urlEnv", not both' }],
    };
  }
  let raw: string;
  let where: string;
  let key: string;
  if (opts.urlEnv !== undefined) {
    const r = readEnv(env, opts.urlEnv, join('urlEnv'));
    if (r.problem !== undefined) return { value: undefined, secrets: [], problems: [r.problem] };
    raw = r.value!;
    where = `environment variable ${opts.urlEnv}`;
    key = join('urlEnv');
  } else if (opts.url !== undefined) {
    raw = opts.url.trim();
    where = '"url"';
    key = join('url');
  } else {
    return {
      value: undefined,
      secrets: [],
      problems: [{ path: join('urlEnv'), message: 'a webhook needs "urlEnv" (the name of an environment variable holding its URL)' }],
    };
  }
  const secrets = urlSecrets(raw);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { value: undefined, secrets, problems: [{ path: key, message: `${where} does not hold a valid URL` }] };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return {
      value: undefined,
      secrets,
      problems: [{ path: key, message: `${where} must hold an http(s) URL, got a ${url.protocol} URL` }],
    };
  }
  return { value: url, secrets, problems: [] };
};

/** Header values, reading `EnvRef`s from the environment. */
export const resolveHeaders = (
  headers: Readonly<Record<string, HeaderValue>> | undefined,
  env: Env,
  path: string,
): Resolved<Record<string, string>> => {
  const out: Record<string, string> = {};
  const secrets: string[] = [];
  const problems: ConfigProblem[] = [];
  for (const [name, v] of Object.entries(headers ?? {})) {
    const at = `${path === '' ? 'headers' : `${path}.headers`}.${name}`;
    if (typeof v === 'string') {
      out[name] = v;
      continue;
    }
    const r = readEnv(env, v.env, `${at}.env`);
    if (r.problem !== undefined) {
      problems.push(r.problem);
      continue;
    }
    out[name] = `${v.prefix ?? ''}${r.value!}`;
    secrets.push(r.value!, out[name]);
  }
  return { value: problems.length === 0 ? out : undefined, secrets, problems };
};
