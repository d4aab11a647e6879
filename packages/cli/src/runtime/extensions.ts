import { CliError, messageOf } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';

/**
 * Load an optional adapter package only when the config asks for it, so the
 * Google SDKs are never imported otherwise. Names the package and the export
 * it needs when either is missing.
 */
export const loadExtension = async <T>(pkg: string, exportName: string, what: string): Promise<T> => {
  const mod = await loadPackage<Record<string, unknown>>(pkg, what);
  const value = mod[exportName];
  if (value === undefined) {
    throw new CliError(`${what} is not implemented yet: ${pkg} does not export ${exportName}`, ExitCode.badInput);
  }
  return value as T;
};

/** The whole optional package (several exports at once); a missing package is exit 2 naming it. */
export const loadPackage = async <M>(pkg: string, what: string): Promise<M> => {
  try {
    return (await import(pkg)) as M;
  } catch (e) {
    const code = (e as { code?: string }).code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    throw new CliError(
      missing ? `${what} needs the package ${pkg} (npm install ${pkg})` : `${what}: could not load ${pkg} (${messageOf(e)})`,
      ExitCode.badInput,
      { cause: e },
    );
  }
};
