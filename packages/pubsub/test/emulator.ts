import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * The official Pub/Sub emulator, when this machine has it: `PUBSUB_EMULATOR_HOST`
 * if set, else the `cloud-pubsub-emulator` of a local gcloud SDK started on a free
 * loopback port (needs `java`). Otherwise a reason to skip.
 */
export interface Emulator {
  readonly host: string;
  stop(): Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });

const which = (cmd: string): string | null => {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};

const emulatorBinary = (): string | null => {
  const gcloud = which('gcloud');
  const roots = [
    process.env['CLOUDSDK_ROOT_DIR'],
    gcloud === null ? undefined : path.resolve(path.dirname(gcloud), '..'),
    '/usr/lib/google-cloud-sdk',
  ];
  for (const root of roots) {
    if (root === undefined) continue;
    // /usr/bin/gcloud is a symlink into the SDK: resolve it.
    const candidates = [
      path.join(root, 'platform/pubsub-emulator/bin/cloud-pubsub-emulator'),
      path.join(root, 'lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator'),
    ];
    for (const c of candidates) if (existsSync(c)) return c;
  }
  return null;
};

/**
 * Like `startEmulator`, but a machine that must run the emulator suites
 * (`SMART_BACKFILL_PUBSUB_EMULATOR_REQUIRED=1`, set by `.ci/run` when the SDK is
 * there) fails instead of skipping. A skip is printed, so it is never silent.
 */
export const emulatorOrSkip = async (suite: string): Promise<Emulator | { readonly skip: string }> => {
  const found = await startEmulator();
  if ('skip' in found) {
    if (process.env['SMART_BACKFILL_PUBSUB_EMULATOR_REQUIRED'] === '1')
      throw new Error(`[pubsub] the emulator is required here (SMART_BACKFILL_PUBSUB_EMULATOR_REQUIRED=1) but: ${found.skip}`);
    console.warn(`[pubsub] SKIP ${suite}: ${found.skip}`);
  }
  return found;
};

export const startEmulator = async (): Promise<Emulator | { readonly skip: string }> => {
  const given = process.env['PUBSUB_EMULATOR_HOST'];
  if (given !== undefined && given !== '') {
    if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/.test(given))
      return { skip: `PUBSUB_EMULATOR_HOST=${given} is not a loopback address; tests only talk to 127.0.0.1` };
    return { host: given, stop: async () => undefined };
  }
  if (process.env['SMART_BACKFILL_SKIP_EMULATOR'] === '1') return { skip: 'SMART_BACKFILL_SKIP_EMULATOR=1' };
  if (which('java') === null)
    return { skip: 'no `java` on PATH (the Pub/Sub emulator needs it); set PUBSUB_EMULATOR_HOST to use a running emulator' };
  const bin = emulatorBinary();
  if (bin === null)
    return {
      skip: 'the Pub/Sub emulator is not installed (`gcloud components install pubsub-emulator` or the google-cloud-cli-pubsub-emulator package)',
    };
  const port = await freePort();
  // The script execs java, so this pid is the emulator's own.
  const child: ChildProcess = spawn(bin, [`--host=127.0.0.1`, `--port=${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  // However the test process ends (a failed hook, a crash), the emulator goes with it.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const started = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 45_000);
    const onData = (b: Buffer) => {
      if (/Server started, listening on/.test(b.toString())) {
        clearTimeout(timer);
        resolve(true);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  };
  if (!started) {
    await stop();
    return { skip: `the Pub/Sub emulator (${bin}) did not start within 45 s` };
  }
  return { host: `127.0.0.1:${port}`, stop };
};
