#!/usr/bin/env node
// Pub/Sub workers with DEFAULT settings against Google's Pub/Sub emulator, side by side
// with the loopback fake (packages/pubsub/test/fake-pubsub-server.ts, in a child
// process). No-op processor. For each server:
//   streaming  startPubSubWorker (no flowControl given) + the engine worker over a
//              memory tracker: backfills/s publish → completed; then stop(), and the
//              count of messages that come back after it (all 2,000 were acked, so
//              the goal is 0), watched for longer than the ack deadline.
//   cli        `smart-backfill worker` (packages/cli/dist/bin.js, SQLite store,
//              queue: pubsub) draining N published requests: backfills/s from its
//              first completion to its last, and its CPU time per message.
// The emulator: PUBSUB_EMULATOR_HOST, or the gcloud SDK's (needs java); without
// one, only the fake runs and the emulator rows say why.
//   node bench/pubsub-emulator.bench.mjs [--messages N] [--only emulator|fake] [--worker streaming|cli]
import { fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.METADATA_SERVER_DETECTION ??= 'none';
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg('messages', '2000'));
const ONLY = arg('only', '');
const WORKER = arg('worker', '');
const load = (pkg) => import(join(root, `packages/${pkg}/dist/index.js`));
const [pubsub, engine, memory, sqlite, core] = await Promise.all([
  load('pubsub'),
  load('engine'),
  load('memory'),
  load('sqlite'),
  load('core'),
]);
const { PubSub, v1 } = await import('@google-cloud/pubsub');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });

// ---------------------------------------------------------------- servers
const startEmulator = async () => {
  if (process.env.PUBSUB_EMULATOR_HOST) return { host: process.env.PUBSUB_EMULATOR_HOST, stop: async () => undefined };
  const sdk = spawnSync('gcloud', ['info', '--format=value(installation.sdk_root)'], { encoding: 'utf8' });
  const bin = sdk.status === 0 ? join(sdk.stdout.trim(), 'platform/pubsub-emulator/bin/cloud-pubsub-emulator') : '';
  if (bin === '' || !existsSync(bin)) return { skip: 'no gcloud SDK with the Pub/Sub emulator' };
  const port = await freePort();
  const child = spawn(bin, ['--host=127.0.0.1', `--port=${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  process.once('exit', () => child.kill('SIGKILL'));
  const ok = await new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), 60_000);
    const on = (b) => /Server started/.test(b.toString()) && (clearTimeout(t), resolve(true));
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.on('exit', () => resolve(false));
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  if (!ok) {
    await stop();
    return { skip: 'the emulator did not start' };
  }
  return { host: `127.0.0.1:${port}`, stop, pid: child.pid };
};
const startFake = async () => {
  const child = fork(join(here, 'pubsub-throughput.bench.mjs'), ['--server'], { stdio: 'inherit' });
  const { port } = await new Promise((r) => child.once('message', r));
  return {
    host: `127.0.0.1:${port}`,
    pid: child.pid,
    stop: async () => {
      child.send('stop');
      await new Promise((r) => child.once('exit', r));
    },
  };
};

let seq = 0;
const requestsFor = (n, prefix) =>
  Array.from({ length: n }, (_, i) => ({
    requestId: `${prefix}-${i}`,
    processorName: 'noop',
    date: core.fromEpochDay(core.toEpochDay('2000-01-01') + i),
    requestType: 'auto',
    priority: 'normal',
    requestedAt: Date.now(),
    requestedBy: 'bench',
    triggerReason: 'auto_backfill',
    metadata: {},
  }));

// ---------------------------------------------------------------- streaming worker
const streaming = async (host) => {
  const client = new PubSub({ projectId: 'bench-project', apiEndpoint: host });
  const names = { topic: `bench-stream-${process.pid}-${seq}`, subscription: `bench-stream-sub-${process.pid}-${seq++}` };
  await pubsub.ensurePubSubResources({ client, ...names, deadLetter: false, retryPolicy: false, ackDeadlineSeconds: 10 });
  const queue = await pubsub.openPubSubQueue({ client, ...names, deadLetter: false });
  const store = memory.createMemoryStore({ clock: engine.systemClock });
  const worker = engine.createWorker({
    queue,
    tracker: store.tracker,
    runLog: store.runLog,
    registry: engine.processorRegistry([{ name: 'noop', run: async () => undefined }]),
    clock: engine.systemClock,
    resume: false,
  });
  const { created } = await store.tracker.create(requestsFor(N, `s${seq}`));
  let completed = 0;
  let other = 0;
  let done;
  const allDone = new Promise((r) => (done = r));
  // Default flow control: what a user who copies the docs' example gets.
  const pw = pubsub.startPubSubWorker({
    subscription: client.subscription(names.subscription),
    worker,
    onOutcome: (o) => {
      if (o._tag === 'Completed') completed++;
      else other++;
      if (completed + other >= N) done();
    },
  });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < created.length; i += 1000) await queue.publish(created.slice(i, i + 1000).map(engine.queueMessageForRequest));
  let ceiling;
  await Promise.race([allDone, new Promise((r) => (ceiling = setTimeout(r, 300_000)))]);
  clearTimeout(ceiling);
  const seconds = (performance.now() - t0) / 1000;
  // This process publishes too: the figure covers publish + receive + handle, per message.
  const cpu = process.cpuUsage(cpu0);
  await pw.stop();
  // Everything was acked: whatever the subscription hands out now came back. Watch past the ack deadline (10 s).
  const sub = new v1.SubscriberClient(await client.getClientConfig());
  const subName = `projects/bench-project/subscriptions/${names.subscription}`;
  let cameBack = 0;
  for (const until = performance.now() + 15_000; performance.now() < until;) {
    const [res] = await sub.pull({ subscription: subName, maxMessages: 1000, returnImmediately: true });
    const got = res.receivedMessages ?? [];
    cameBack += got.length;
    if (got.length > 0) await sub.acknowledge({ subscription: subName, ackIds: got.map((m) => m.ackId) });
    else await sleep(250);
  }
  await sub.close();
  await queue.close();
  await client.close();
  return {
    completed,
    otherOutcomes: other,
    seconds: +seconds.toFixed(2),
    perSecond: Math.round(completed / seconds),
    cpuMsPerMessageWithPublish: +((cpu.user + cpu.system) / 1000 / N).toFixed(2),
    cameBackAfterStop: cameBack,
  };
};

// ---------------------------------------------------------------- CLI worker
const cpuMsOf = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return null;
  }
};
/** CPU ms of a process and all its descendants (the emulator's script and its JVM). */
const treeCpuMs = (pid) => {
  let total = cpuMsOf(pid) ?? 0;
  let kids = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return total;
  }
  for (const k of kids) total += treeCpuMs(k);
  return total;
};
const cliWorker = async (host, serverPid) => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-cli-'));
  const names = { topic: `bench-cli-${process.pid}-${seq}`, subscription: `bench-cli-sub-${process.pid}-${seq++}` };
  writeFileSync(join(dir, 'noop.mjs'), 'export const run = async () => undefined;\n');
  const config = {
    store: { type: 'sqlite', path: './bench.db' },
    queue: { type: 'pubsub', projectId: 'bench-project', ...names, apiEndpoint: host, deadLetter: false, retryPolicy: false },
    // Defaults unless asked: SB_BENCH_CLI_CONCURRENCY sets `worker.concurrency`.
    ...(process.env.SB_BENCH_CLI_CONCURRENCY ? { worker: { concurrency: Number(process.env.SB_BENCH_CLI_CONCURRENCY) } } : {}),
    processors: [
      {
        name: 'noop',
        module: './noop.mjs',
        schedule: { table: 'schedule', dateColumn: 'game_date' },
        target: { table: 'target', dateColumn: 'game_date' },
      },
    ],
  };
  writeFileSync(join(dir, 'smart-backfill.config.json'), JSON.stringify(config, null, 2));
  const store = sqlite.openSqliteStore({ path: join(dir, 'bench.db'), clock: engine.systemClock });
  store.db.exec('CREATE TABLE schedule (game_date TEXT); CREATE TABLE target (game_date TEXT);');
  const client = new PubSub({ projectId: 'bench-project', apiEndpoint: host });
  await pubsub.ensurePubSubResources({ client, ...names, deadLetter: false, retryPolicy: false });
  const queue = await pubsub.openPubSubQueue({ client, ...names, deadLetter: false });
  const { created } = await store.tracker.create(requestsFor(N, `c${seq}`));
  for (let i = 0; i < created.length; i += 1000) await queue.publish(created.slice(i, i + 1000).map(engine.queueMessageForRequest));
  for (const r of created) await store.tracker.apply(r.requestId, { _tag: 'MarkPublished', at: Date.now() });
  await queue.close();
  await client.close();
  const count = store.db.prepare(`SELECT count(*) AS n FROM backfill_requests WHERE status = 'completed'`);
  const extra = process.env.SB_BENCH_CLI_NODE_ARGS ? process.env.SB_BENCH_CLI_NODE_ARGS.split(' ') : [];
  const child = spawn(process.execPath, [...extra, join(root, 'packages/cli/dist/bin.js'), 'worker'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const t0 = performance.now();
  let tFirst = null;
  let cpuAtFirst = null;
  let n = 0;
  let cpuAtLast = null;
  let serverCpuAtFirst = null;
  let serverCpuAtLast = null;
  for (const until = t0 + 300_000; performance.now() < until;) {
    n = count.get().n;
    if (n > 0 && tFirst === null) {
      tFirst = performance.now();
      cpuAtFirst = cpuMsOf(child.pid);
      serverCpuAtFirst = serverPid === undefined ? null : treeCpuMs(serverPid);
    }
    if (n >= N) {
      cpuAtLast = cpuMsOf(child.pid);
      serverCpuAtLast = serverPid === undefined ? null : treeCpuMs(serverPid);
      break;
    }
    await sleep(20);
  }
  const t1 = performance.now();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  store.close();
  rmSync(dir, { recursive: true, force: true });
  const drain = (t1 - (tFirst ?? t0)) / 1000;
  return {
    completed: n,
    secondsFromStart: +((t1 - t0) / 1000).toFixed(2),
    secondsFirstToLast: +drain.toFixed(2),
    perSecond: Math.round(n / drain),
    cpuMsPerMessage: cpuAtFirst !== null && cpuAtLast !== null ? +((cpuAtLast - cpuAtFirst) / n).toFixed(2) : null,
    // The server's own CPU over the same span (the emulator's JVM shares the machine): the other half of the bill.
    serverCpuMsPerMessage:
      serverCpuAtFirst !== null && serverCpuAtLast !== null ? +((serverCpuAtLast - serverCpuAtFirst) / n).toFixed(2) : null,
  };
};

// ---------------------------------------------------------------- run
const result = {
  bench: 'pubsub-emulator',
  at: new Date().toISOString(),
  node: process.version,
  machine: { nproc: cpus().length, cpuModel: cpus()[0]?.model, loadAverageAtStart: loadavg().map((x) => +x.toFixed(2)) },
  messages: N,
  goalPerSecond: 1000,
  servers: {},
};
for (const [name, start] of [
  ['emulator', startEmulator],
  ['fake', startFake],
]) {
  if (ONLY !== '' && ONLY !== name) continue;
  const server = await start();
  if (server.skip) {
    result.servers[name] = { skipped: server.skip };
    console.log(`pubsub-emulator: SKIP ${name}: ${server.skip}`);
    continue;
  }
  try {
    result.servers[name] = {};
    if (WORKER === '' || WORKER === 'streaming') {
      const s = await streaming(server.host);
      console.log(
        `pubsub-emulator: ${name} streaming (default flow control): ${s.perSecond}/s, ${s.cpuMsPerMessageWithPublish} ms CPU per message (publishing included), ${s.cameBackAfterStop} came back after stop()`,
      );
      result.servers[name].streaming = s;
    }
    if (WORKER === '' || WORKER === 'cli') {
      const c = await cliWorker(server.host, server.pid);
      console.log(
        `pubsub-emulator: ${name} CLI worker: ${c.perSecond}/s, ${c.cpuMsPerMessage} ms CPU per message (server: ${c.serverCpuMsPerMessage} ms)`,
      );
      result.servers[name].cli = c;
    }
  } finally {
    await server.stop();
  }
}
result.machine.loadAverageAtEnd = loadavg().map((x) => +x.toFixed(2));
console.log(JSON.stringify(result, null, 2));
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results/pubsub-emulator.json'), JSON.stringify(result, null, 2) + '\n');
