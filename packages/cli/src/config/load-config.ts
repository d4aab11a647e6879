import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { badInput, messageOf } from '../cli-error.js';
import { formatConfigProblems, unsetSecretProblems, type Env } from '@smart-backfill/alerts';
import { configCodec, queueCodec } from './config-codec.js';
import type { ResolvedConfig, StoreConfig } from './config-types.js';
import { decodeWith } from './decoders.js';
import { graphOf } from './graph.js';
import { storeRuleProblems } from './store-rules.js';
import { pubSubOptionsOf, pubSubProblems } from './pubsub-queue.js';

/** Looked for in the working folder, in this order, when `--config` is not given. */
export const CONFIG_FILE_NAMES = [
  'smart-backfill.config.json',
  'smart-backfill.config.ts',
  'smart-backfill.config.mts',
  'smart-backfill.config.js',
  'smart-backfill.config.mjs',
] as const;

/** The config file to use, or `undefined` when there is none. */
export const findConfigFile = (cwd: string, explicit?: string): string | undefined => {
  if (explicit !== undefined) {
    const p = resolve(cwd, explicit);
    if (!existsSync(p)) throw badInput(`--config: no such file ${JSON.stringify(explicit)}`);
    return p;
  }
  for (const name of CONFIG_FILE_NAMES) {
    const p = join(cwd, name);
    if (existsSync(p)) return p;
  }
  return undefined;
};

/** Import a JS or TS module; TS goes through tsx (a peer dependency, loaded only here). */
export const importModule = async (file: string): Promise<Record<string, unknown>> => {
  const ext = extname(file);
  const url = pathToFileURL(file).href;
  if (ext === '.ts' || ext === '.mts' || ext === '.cts' || ext === '.tsx') {
    let tsx: { tsImport: (specifier: string, parent: string) => Promise<unknown> };
    try {
      tsx = (await import('tsx/esm/api')) as typeof tsx;
    } catch (e) {
      throw badInput(`${file}: loading TypeScript needs the "tsx" package (npm install tsx), or use a .js/.json file instead`, e);
    }
    try {
      return (await tsx.tsImport(url, import.meta.url)) as Record<string, unknown>;
    } catch (e) {
      // tsx compiles a .ts file as CommonJS outside a "type": "module" package, and ESM-only packages then fail to load.
      if (
        ext === '.ts' &&
        /ERR_PACKAGE_PATH_NOT_EXPORTED|No "exports" main/.test(`${(e as { code?: string }).code ?? ''} ${messageOf(e)}`)
      ) {
        throw badInput(
          `${file}: ${messageOf(e)}; rename it to .mts (or add "type": "module" to the nearest package.json) so it loads as an ES module`,
          e,
        );
      }
      throw e;
    }
  }
  return (await import(url)) as Record<string, unknown>;
};

const readRaw = async (file: string): Promise<unknown> => {
  if (extname(file) === '.json') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw badInput(`${file}: cannot read it (${messageOf(e)})`, e);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw badInput(`${file}: not valid JSON (${messageOf(e)})`, e);
    }
  }
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(file);
  } catch (e) {
    if (e instanceof Error && e.name === 'CliError') throw e;
    throw badInput(`${file}: cannot load it (${messageOf(e)})`, e);
  }
  const value = mod['default'] ?? mod['config'];
  if (value === undefined) throw badInput(`${file}: expected a default export (export default defineConfig({ ... }))`);
  return value;
};

const absolutize = (store: StoreConfig, baseDir: string): StoreConfig => {
  if (store.type === 'sqlite') {
    const abs = (p: string): string => (p !== ':memory:' && !isAbsolute(p) ? resolve(baseDir, p) : p);
    return {
      ...store,
      path: abs(store.path),
      ...(store.warehouse !== undefined ? { warehouse: { path: abs(store.warehouse.path) } } : {}),
    };
  }
  return store.keyFilename !== undefined && !isAbsolute(store.keyFilename)
    ? { ...store, keyFilename: resolve(baseDir, store.keyFilename) }
    : store;
};

const problemsError = (label: string, problems: readonly string[]) =>
  badInput([`${label}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, ...problems.map((p) => `  ${p}`)]);

/** The shape problems and the cross-field rules (which read the raw value), reported together. */
const checkRaw = (raw: unknown, requireRunnable: boolean) => {
  const r = decodeWith(configCodec, raw);
  return { r, problems: [...(r.ok ? [] : r.problems), ...storeRuleProblems(raw, { requireRunnable })] };
};

/** A decoded config with its paths made absolute against `where.baseDir`. */
type Decoded = Extract<ReturnType<typeof checkRaw>['r'], { ok: true }>['value'];

const finish = (c: Decoded, where: { file?: string | undefined; baseDir: string }): ResolvedConfig => {
  const processors = c.processors.map((p) =>
    p.module !== undefined && !isAbsolute(p.module) ? { ...p, module: resolve(where.baseDir, p.module) } : p,
  );
  return {
    ...c,
    store: absolutize(c.store, where.baseDir),
    queue: c.queue ?? { type: 'store' },
    processors,
    graph: graphOf(processors),
    file: where.file,
    baseDir: where.baseDir,
  };
};

/**
 * Validate a config value (from a file or built in code). Every problem becomes
 * one line naming its path; any problem is a `CliError` with exit code 2.
 */
export const resolveConfig = (
  raw: unknown,
  where: { file?: string | undefined; baseDir: string; requireRunnable?: boolean | undefined },
): ResolvedConfig => {
  const { r, problems } = checkRaw(raw, where.requireRunnable === true);
  if (!r.ok || problems.length > 0) throw problemsError(where.file ?? 'config', [...new Set(problems)]);
  return finish(r.value, where);
};

/**
 * Find, read and validate the config. Every problem is reported at once, in one
 * error: the shapes, the Pub/Sub adapter's rules and — when there is any other
 * problem — the alert channels' unset environment variables (alone, an unset
 * secret does not stop a run: `run` and `worker` warn and go on).
 */
export const loadConfig = async (cwd: string, explicit?: string, env: Env = process.env): Promise<ResolvedConfig> => {
  const file = findConfigFile(cwd, explicit);
  if (file === undefined) {
    throw badInput(
      `no config found in ${cwd} (looked for ${CONFIG_FILE_NAMES.join(', ')}); run "smart-backfill init" or pass --config FILE`,
    );
  }
  const raw = await readRaw(file);
  const { r, problems } = checkRaw(raw, true);
  const fields = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  // When another part is wrong, the queue is decoded alone, so its adapter's rules are still checked now.
  const alone = r.ok || fields['queue'] === undefined ? undefined : decodeWith(queueCodec, fields['queue']);
  const queue = r.ok ? r.value.queue : alone?.ok === true ? alone.value : undefined;
  if (queue?.type === 'pubsub')
    // Names and ranges are the adapter's rules: checked (with its messages) only when the queue is Pub/Sub.
    problems.push(...(await pubSubProblems(pubSubOptionsOf(queue), (field) => `queue.${field}`)));
  if (!r.ok || problems.length > 0) {
    problems.push(...unsetSecretProblems(fields['alerts'], { env }).map((p) => formatConfigProblems([p])));
    throw problemsError(file, [...new Set(problems)]);
  }
  // Decoded once: the file's config is the value just checked.
  return finish(r.value, { file, baseDir: dirname(file) });
};
