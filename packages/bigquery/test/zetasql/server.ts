/**
 * ZetaSQL's analyzer (the open-source front end of BigQuery's SQL dialect), run as
 * the gRPC `ZetaSqlLocalService` server that the npm package
 * `@fivetrandevelopers/zetasql` ships for Linux x86-64. The package (112 MB) is
 * not a workspace dependency: `scripts/zetasql-install.sh` puts it in a cache
 * folder, and tests find it through `SMART_BACKFILL_ZETASQL_DIR` (default
 * `~/.cache/smart-backfill/zetasql`).
 *
 * The server listens on 127.0.0.1, never `localhost`: grpc-js resolves a host name
 * through DNS (TXT records for service config), which would leave loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const ZETASQL_VERSION = '1.13.0';
export const INSTALL_COMMAND = 'scripts/zetasql-install.sh';

/** Where the install script puts the package. */
export const zetasqlDir = (): string => process.env['SMART_BACKFILL_ZETASQL_DIR'] ?? join(homedir(), '.cache', 'smart-backfill', 'zetasql');

export interface ZetaSqlInstall {
  readonly binary: string;
  readonly protos: string;
}

/** The installed server and its protos, or why there is none (a skip reason naming the command that installs it). */
export const findZetaSql = (): ZetaSqlInstall | { readonly skip: string } => {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return { skip: `the ZetaSQL server binary used here is Linux x86-64 only (this is ${process.platform}-${process.arch})` };
  const lib = join(zetasqlDir(), 'node_modules', '@fivetrandevelopers', 'zetasql', 'lib', 'zetasql');
  const binary = join(lib, 'remote_server.so');
  const protos = join(lib, 'protos');
  if (!existsSync(binary) || !existsSync(join(protos, 'local_service.proto')))
    return {
      skip: `@fivetrandevelopers/zetasql@${ZETASQL_VERSION} is not installed in ${zetasqlDir()}; run ${INSTALL_COMMAND} to enable this test`,
    };
  return { binary, protos };
};

/** A gRPC status error from the server: `details` is ZetaSQL's message (`Unrecognized name: x [at 3:8]`). */
export interface RpcError extends Error {
  readonly code: number;
  readonly details: string;
}

type Unary = (request: unknown, options: grpc.CallOptions, callback: (error: RpcError | null, response: unknown) => void) => void;

export interface ZetaSqlServer {
  readonly address: string;
  readonly pid: number;
  /** One unary RPC of `ZetaSqlLocalService` (`Analyze`, `EvaluateQuery`, ...), with a deadline. */
  call<T>(method: string, request: unknown): Promise<T>;
  /** Kills the server by its PID and closes the client. Safe to call twice. */
  stop(): Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

/** Resolves once the server prints that it listens; rejects if it exits first or the wait runs out. */
const waitListening = (child: ChildProcess, port: number, timeoutMs: number): Promise<void> =>
  new Promise((resolve, reject) => {
    let output = '';
    const done = (e?: Error): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (e === undefined) resolve();
      else reject(e);
    };
    const onData = (b: Buffer): void => {
      output += b.toString('utf8');
      if (output.includes(`listening on 127.0.0.1:${port}`)) done();
    };
    const onExit = (code: number | null, signal: string | null): void =>
      done(
        new Error(
          `ZetaSQL server exited before listening (code ${String(code)}, signal ${String(signal)}): ${output.trim() || 'no output'}`,
        ),
      );
    const timer = setTimeout(
      () => done(new Error(`ZetaSQL server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms: ${output.trim() || 'no output'}`)),
      timeoutMs,
    );
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });

const kill = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGKILL');
  await exited;
};

/**
 * Start the server on a free loopback port and connect to it. Bounded: a server
 * that does not listen within `startTimeoutMs` is killed and the error says what
 * it printed. A port taken between choosing and binding is retried.
 */
export const startZetaSql = async (install: ZetaSqlInstall, opts: { readonly startTimeoutMs?: number } = {}): Promise<ZetaSqlServer> => {
  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  const definition = protoLoader.loadSync('local_service.proto', {
    includeDirs: [install.protos],
    keepCase: true,
    enums: String,
    longs: String,
    defaults: false,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    zetasql: { local_service: { ZetaSqlLocalService: grpc.ServiceClientConstructor } };
  };
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(install.binary, ['127.0.0.1', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await waitListening(child, port, timeoutMs);
    } catch (e) {
      lastError = e;
      await kill(child);
      continue;
    }
    // Keep draining its output so a chatty server never blocks on a full pipe.
    child.stdout?.resume();
    child.stderr?.resume();
    const address = `127.0.0.1:${port}`;
    const client = new pkg.zetasql.local_service.ZetaSqlLocalService(address, grpc.credentials.createInsecure());
    const stopped = { done: false };
    return {
      address,
      pid: child.pid!,
      call<T>(method: string, request: unknown): Promise<T> {
        const fn = (client as unknown as Record<string, Unary>)[method];
        if (typeof fn !== 'function') return Promise.reject(new Error(`ZetaSqlLocalService has no method ${method}`));
        return new Promise<T>((resolve, reject) =>
          fn.call(client, request, { deadline: Date.now() + 30_000 }, (error, response) =>
            error === null ? resolve(response as T) : reject(error),
          ),
        );
      },
      async stop() {
        if (stopped.done) return;
        stopped.done = true;
        client.close();
        await kill(child);
      },
    };
  }
  throw new Error(`could not start the ZetaSQL server (${install.binary}): ${(lastError as Error).message}`, { cause: lastError });
};
