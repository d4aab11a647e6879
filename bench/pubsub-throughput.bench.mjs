#!/usr/bin/env node
// Pub/Sub throughput: backfills per second from publish to completed, through the
// real @google-cloud/pubsub client and the fake Pub/Sub server
// (packages/pubsub/test/fake-pubsub-server.ts, loaded with tsx), with the engine's
// worker over a memory tracker and a no-op processor (goal: >= 1,000/s).
// Each backfill is: tracker create → publish (batched) → StreamingPull → claim →
// run → complete → ack.
// Imports the BUILT packages: run `npx tsc -b packages/pubsub packages/memory` first.
// The fake server runs in a child process (as the real service runs elsewhere), so
// the measured process does only the client's and the worker's work; --same-process
// runs it in this process instead (one core for everything).
//   node bench/pubsub-throughput.bench.mjs [--messages N] [--max-outstanding N] [--same-process]
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

// No Google account here: keep the auth library off the GCE metadata server.
process.env.METADATA_SERVER_DETECTION ??= 'none';
const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('messages', 5000);
const MAX_OUT = arg('max-outstanding', 1000);

const load = async (pkg) =>
  import(join(here, `../packages/${pkg}/dist/index.js`)).catch((e) => {
    console.error(
      `pubsub-throughput: cannot load packages/${pkg}/dist (run \`npx tsc -b packages/pubsub packages/memory\` first): ${e.message}`,
    );
    process.exit(1);
  });
const pubsub = await load('pubsub');
const engine = await load('engine');
const memory = await load('memory');
const core = await load('core');
register();
const loadFake = async () =>
  (await import(pathToFileURL(join(here, '../packages/pubsub/test/fake-pubsub-server.ts')).href)).FakePubSubServer;

// ---------------------------------------------------------------- child: the fake server
if (process.argv.includes('--server')) {
  const FakePubSubServer = await loadFake();
  const fake = await FakePubSubServer.start({ pullWaitMs: 500 });
  process.send({ port: fake.port });
  process.on('message', async (m) => {
    if (m === 'stats') process.send({ stats: fake.stats });
    if (m === 'stop') {
      await fake.stop();
      process.exit(0);
    }
  });
} else {
  const sameProcess = process.argv.includes('--same-process');
  let fake;
  let child;
  let endpoint;
  if (sameProcess) {
    fake = await (await loadFake()).start({ pullWaitMs: 500 });
    endpoint = fake.endpoint;
  } else {
    child = fork(fileURLToPath(import.meta.url), ['--server'], { stdio: 'inherit' });
    const { port } = await new Promise((r) => child.once('message', r));
    endpoint = `127.0.0.1:${port}`;
  }
  const { PubSub } = await import('@google-cloud/pubsub');
  const client = new PubSub({ projectId: 'bench-project', apiEndpoint: endpoint, emulatorMode: true });
  const names = { topic: 'bench-requests', subscription: 'bench-worker', deadLetter: false, retryPolicy: false };
  await pubsub.ensurePubSubResources({ client, ...names });
  const queue = await pubsub.openPubSubQueue({ client, ...names, batching: { maxMessages: 1000, maxMilliseconds: 10 } });
  const store = memory.createMemoryStore({ clock: engine.systemClock });
  const noop = { name: 'noop', run: async () => undefined };
  let completed = 0;
  let other = 0;
  const worker = engine.createWorker({
    queue,
    tracker: store.tracker,
    runLog: store.runLog,
    registry: engine.processorRegistry([noop]),
    clock: engine.systemClock,
    resume: false,
  });

  const start = Date.UTC(2000, 0, 1);
  const requests = Array.from({ length: N }, (_, i) => ({
    requestId: `bench-${i}`,
    processorName: 'noop',
    date: core.fromEpochDay(core.toEpochDay('2000-01-01') + i),
    requestType: 'auto',
    priority: 'normal',
    requestedAt: start,
    requestedBy: 'bench',
    triggerReason: 'auto_backfill',
    metadata: {},
  }));
  const created = await store.tracker.create(requests);
  const messages = created.created.map(engine.queueMessageForRequest);

  let done;
  const allDone = new Promise((r) => (done = r));
  const pw = pubsub.startPubSubWorker({
    subscription: client.subscription(names.subscription),
    worker,
    flowControl: { maxMessages: MAX_OUT },
    onOutcome: (o) => {
      if (o._tag === 'Completed') completed++;
      else other++;
      if (completed + other >= N) done();
    },
  });

  const t0 = performance.now();
  const outcomes = [];
  for (let i = 0; i < messages.length; i += 1000) outcomes.push(...(await queue.publish(messages.slice(i, i + 1000))));
  const tPublished = performance.now();
  const failed = outcomes.filter((o) => o._tag !== 'Published').length;
  let ceiling;
  await Promise.race([allDone, new Promise((r) => (ceiling = setTimeout(r, 120_000)))]);
  clearTimeout(ceiling);
  const t1 = performance.now();
  await pw.stop();
  await queue.close();
  await client.close();
  let serverStats;
  if (sameProcess) {
    serverStats = fake.stats;
    await fake.stop();
  } else {
    child.send('stats');
    serverStats = (await new Promise((r) => child.once('message', r))).stats;
    child.send('stop');
    await new Promise((r) => child.once('exit', r));
  }

  const seconds = (t1 - t0) / 1000;
  const result = {
    bench: 'pubsub-throughput',
    at: new Date().toISOString(),
    node: process.version,
    messages: N,
    maxOutstanding: MAX_OUT,
    publishFailed: failed,
    completed,
    otherOutcomes: other,
    publishSeconds: +((tPublished - t0) / 1000).toFixed(3),
    totalSeconds: +seconds.toFixed(3),
    publishPerSecond: Math.round(N / ((tPublished - t0) / 1000)),
    completedPerSecond: Math.round(completed / seconds),
    goalPerSecond: 1000,
    fakeServer: sameProcess ? 'same process' : 'child process',
    serverStats,
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results/pubsub-throughput.json'), JSON.stringify(result, null, 2) + '\n');
  if (completed < N) {
    console.error(`pubsub-throughput: only ${completed} of ${N} completed`);
    process.exit(1);
  }
  console.log(`pubsub-throughput: ${result.completedPerSecond} backfills/s publish→completed (goal >= 1,000/s)`);
}
