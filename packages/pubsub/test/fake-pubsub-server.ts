/**
 * An in-process Pub/Sub server on 127.0.0.1 for tests: the real `@google-cloud/pubsub`
 * client talks gRPC to it exactly as to the service or the emulator. Built from the
 * `google/pubsub/v1/pubsub.proto` that ships inside the client package.
 *
 * It implements what the client and our adapters call — topics, subscriptions, Publish,
 * Pull, StreamingPull, Acknowledge, ModifyAckDeadline — with the semantics our code
 * depends on: leases that expire and redeliver, `deliveryAttempt` (only when a
 * dead-letter policy is set, as the service does), forwarding to a dead-letter topic
 * after `maxDeliveryAttempts`, retry-policy backoff, ordering keys (one message of a
 * key out at a time) and exactly-once subscriptions (acks of lapsed leases fail with
 * `PERMANENT_FAILURE_INVALID_ACK_ID`, as the client expects).
 *
 * Time comes from `now()` so a test can drive lease expiry with a manual clock.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type * as Protobuf from 'protobufjs';
import { PubSub } from '@google-cloud/pubsub';

const require = createRequire(import.meta.url);
/** The folder of an installed package, found from its entry point (some export maps hide package.json). */
const packageRoot = (from: NodeRequire, name: string): string => {
  let dir = path.dirname(from.resolve(name));
  while (!existsSync(path.join(dir, 'package.json')) || path.basename(dir) !== name.split('/').pop()) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of ${name}`);
    dir = up;
  }
  return dir;
};
const pubsubRoot = packageRoot(require, '@google-cloud/pubsub');
const gaxRoot = packageRoot(createRequire(path.join(pubsubRoot, 'package.json')), 'google-gax');
// protobufjs comes with google-gax (the client's transport); load the very copy it uses.
const protobuf = createRequire(path.join(gaxRoot, 'package.json'))('protobufjs') as typeof Protobuf;
const PUBSUB_PROTOS = path.join(pubsubRoot, 'build', 'protos');
const GAX_PROTOS = path.join(gaxRoot, 'build', 'protos');

export interface StoredMessage {
  readonly messageId: string;
  readonly data: Buffer;
  readonly attributes: Record<string, string>;
  readonly orderingKey: string;
  readonly publishTime: number;
}

interface SubMessage {
  readonly msg: StoredMessage;
  deliveries: number;
  state: 'ready' | 'delayed' | 'leased';
  availableAt: number;
  leaseExpiresAt: number;
  ackId: string | null;
  readonly ackIds: string[];
  stream: StreamConsumer | null;
}

interface Duration {
  seconds?: string | number;
  nanos?: number;
}

interface SubscriptionState {
  name: string;
  topic: string;
  ackDeadlineSeconds: number;
  retryPolicy: { minimumBackoff: Duration; maximumBackoff: Duration } | null;
  deadLetterPolicy: { deadLetterTopic: string; maxDeliveryAttempts: number } | null;
  enableExactlyOnceDelivery: boolean;
  enableMessageOrdering: boolean;
  filter: string;
  labels: Record<string, string>;
  ready: SubMessage[];
  delayed: SubMessage[];
  leased: Map<string, SubMessage>;
  byAckId: Map<string, SubMessage>;
  streams: StreamConsumer[];
  pulls: PendingPull[];
  rr: number;
  acked: number;
}

interface StreamConsumer {
  readonly id: number;
  readonly sub: SubscriptionState;
  readonly call: grpc.ServerDuplexStream<any, any>;
  ackDeadlineSeconds: number;
  maxOutstanding: number;
  outstanding: number;
  closed: boolean;
}

interface PendingPull {
  readonly max: number;
  readonly respond: (msgs: unknown[]) => void;
}

export interface FakePubSubOptions {
  /** Epoch ms; defaults to `Date.now`. */
  readonly now?: () => number;
  /** How often leases and backoffs are checked (real time). Default 20 ms. */
  readonly tickMs?: number;
  /** How long a Pull with nothing to return waits before answering empty. Default 2 s. */
  readonly pullWaitMs?: number;
}

export interface FakeStats {
  publishCalls: number;
  published: number;
  pullCalls: number;
  streamingPulls: number;
  acks: number;
  modAcks: number;
  delivered: number;
  deadLettered: number;
}

const status = grpc.status;

const rpcError = (code: grpc.status, details: string, metadata?: grpc.Metadata): grpc.ServiceError =>
  Object.assign(new Error(details), { code, details, metadata: metadata ?? new grpc.Metadata() }) as grpc.ServiceError;

const durationMs = (d: Duration | null | undefined): number =>
  d === null || d === undefined ? 0 : Number(d.seconds ?? 0) * 1000 + Math.floor((d.nanos ?? 0) / 1e6);

const TOPIC_RE = /^projects\/[^/]+\/topics\/[A-Za-z][\w.~+%-]{2,254}$/;
const SUB_RE = /^projects\/[^/]+\/subscriptions\/[A-Za-z][\w.~+%-]{2,254}$/;

export class FakePubSubServer {
  readonly stats: FakeStats = {
    publishCalls: 0,
    published: 0,
    pullCalls: 0,
    streamingPulls: 0,
    acks: 0,
    modAcks: 0,
    delivered: 0,
    deadLettered: 0,
  };
  /** Make the next N Publish calls fail with this code (tests of publish failures). */
  failNextPublishes: { count: number; code: grpc.status } = { count: 0, code: status.UNAVAILABLE };

  /** Make the next call(s) of an RPC (by its proto name, e.g. `CreateTopic`) fail with a code. */
  failNext(method: string, code: grpc.status, count = 1): void {
    this.injected.set(method, { code, count });
  }
  private readonly injected = new Map<string, { code: grpc.status; count: number }>();

  private readonly topics = new Map<string, { name: string; labels: Record<string, string>; log: StoredMessage[] }>();
  private readonly subs = new Map<string, SubscriptionState>();
  private readonly server = new grpc.Server();
  private readonly now: () => number;
  private readonly pullWaitMs: number;
  private timer: NodeJS.Timeout | null = null;
  private nextMessageId = 1;
  private nextAckId = 1;
  private nextStreamId = 1;
  private statusType: Protobuf.Type | null = null;
  private errorInfoType: Protobuf.Type | null = null;
  port = 0;

  private constructor(opts: FakePubSubOptions) {
    this.now = opts.now ?? Date.now;
    this.pullWaitMs = opts.pullWaitMs ?? 2_000;
  }

  static async start(opts: FakePubSubOptions = {}): Promise<FakePubSubServer> {
    const fake = new FakePubSubServer(opts);
    await fake.listen(opts.tickMs ?? 20);
    return fake;
  }

  /** `127.0.0.1:<port>`: what `PUBSUB_EMULATOR_HOST` or `apiEndpoint` takes. */
  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** A real client pointed at this server over an insecure channel, with no credentials. */
  client(projectId = 'test-project'): PubSub {
    return new PubSub({ projectId, apiEndpoint: this.endpoint, emulatorMode: true });
  }

  // ---- backdoor: what the server really holds ------------------------------------------

  /** Messages not yet acked on a subscription (ready, backing off or leased). */
  backlog(subscription: string): number {
    const s = this.subs.get(subscription);
    return s === undefined ? 0 : s.ready.length + s.delayed.length + s.leased.size;
  }

  /** Messages currently leased out on a subscription. */
  leasedCount(subscription: string): number {
    return this.subs.get(subscription)?.leased.size ?? 0;
  }

  /** When each current lease on a subscription ends (ms, the fake's clock). */
  leaseDeadlines(subscription: string): number[] {
    return [...(this.subs.get(subscription)?.leased.values() ?? [])].map((m) => m.leaseExpiresAt);
  }

  acked(subscription: string): number {
    return this.subs.get(subscription)?.acked ?? 0;
  }

  /** Every message ever published to a topic (including dead letters forwarded to it). */
  published(topic: string): readonly StoredMessage[] {
    return this.topics.get(topic)?.log ?? [];
  }

  subscription(name: string): Omit<SubscriptionState, 'ready' | 'delayed' | 'leased' | 'byAckId' | 'streams' | 'pulls' | 'rr'> | undefined {
    return this.subs.get(name);
  }

  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  /** End every lease on a subscription now, as if its holder vanished (messages are redelivered). */
  expireLeases(subscription: string): number {
    const sub = this.subs.get(subscription);
    if (sub === undefined) return 0;
    const leased = [...sub.leased.values()];
    for (const m of leased) this.release(sub, m, 'expired');
    this.pump(sub);
    return leased.length;
  }

  /** Check leases and backoffs now (the timer also does it every `tickMs`). */
  tick(): void {
    for (const sub of this.subs.values()) {
      this.expire(sub);
      this.pump(sub);
    }
  }

  /** Lapsed leases and finished backoffs of one subscription (also run before each Pull). */
  private expire(sub: SubscriptionState): void {
    const now = this.now();
    for (const m of [...sub.leased.values()]) {
      if (m.leaseExpiresAt <= now) this.release(sub, m, 'expired');
    }
    if (sub.delayed.length > 0) {
      const due = sub.delayed.filter((m) => m.availableAt <= now);
      if (due.length > 0) {
        sub.delayed = sub.delayed.filter((m) => m.availableAt > now);
        for (const m of due) this.makeReady(sub, m, true);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const sub of this.subs.values()) {
      for (const p of sub.pulls) p.respond([]);
      sub.pulls = [];
      for (const st of sub.streams) {
        st.closed = true;
        try {
          st.call.end();
        } catch {
          /* already gone */
        }
      }
    }
    await new Promise<void>((resolve) => {
      this.server.tryShutdown(() => resolve());
      // Streams the client keeps open would hold tryShutdown forever.
      setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 500).unref();
    });
  }

  // ---- internals -----------------------------------------------------------------------

  private async listen(tickMs: number): Promise<void> {
    const def = protoLoader.loadSync('google/pubsub/v1/pubsub.proto', {
      includeDirs: [PUBSUB_PROTOS, GAX_PROTOS],
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as any;
    const v1 = pkg.google.pubsub.v1;
    this.server.addService(v1.Publisher.service, {
      CreateTopic: this.unary((req) => this.createTopic(req)),
      GetTopic: this.unary((req) => this.getTopic(req.topic)),
      DeleteTopic: this.unary((req) => this.deleteTopic(req.topic)),
      Publish: this.unary((req) => this.publish(req)),
      ListTopicSubscriptions: this.unary((req) => ({
        subscriptions: [...this.subs.values()].filter((s) => s.topic === req.topic).map((s) => s.name),
        nextPageToken: '',
      })),
    });
    this.server.addService(v1.Subscriber.service, {
      CreateSubscription: this.unary((req) => this.createSubscription(req)),
      GetSubscription: this.unary((req) => this.subView(this.getSub(req.subscription))),
      DeleteSubscription: this.unary((req) => this.deleteSubscription(req.subscription)),
      Acknowledge: this.unary((req) => this.acknowledge(req.subscription, req.ackIds)),
      ModifyAckDeadline: this.unary((req) => this.modifyAckDeadline(req.subscription, req.ackIds, req.ackDeadlineSeconds)),
      Pull: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => this.pull(call, cb),
      StreamingPull: (call: grpc.ServerDuplexStream<any, any>) => this.streamingPull(call),
    });
    const root = protobuf.loadSync([
      path.join(GAX_PROTOS, 'google/rpc/status.proto'),
      path.join(GAX_PROTOS, 'google/rpc/error_details.proto'),
    ]);
    this.statusType = root.lookupType('google.rpc.Status');
    this.errorInfoType = root.lookupType('google.rpc.ErrorInfo');
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => (e ? reject(e) : resolve(port))),
    );
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  private unary(fn: (req: any) => unknown) {
    return (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
      const method = call.getPath().split('/').pop() ?? '';
      const inj = this.injected.get(method);
      if (inj !== undefined && inj.count > 0) {
        inj.count--;
        cb(rpcError(inj.code, `injected ${method} failure`), null);
        return;
      }
      try {
        cb(null, fn(call.request) as any);
      } catch (e) {
        cb(e as grpc.ServiceError, null);
      }
    };
  }

  private createTopic(req: any) {
    if (!TOPIC_RE.test(req.name)) throw rpcError(status.INVALID_ARGUMENT, `Invalid [topics] name: (name=${req.name})`);
    if (this.topics.has(req.name)) throw rpcError(status.ALREADY_EXISTS, 'Topic already exists');
    this.topics.set(req.name, { name: req.name, labels: req.labels ?? {}, log: [] });
    return { name: req.name, labels: req.labels ?? {} };
  }

  private getTopic(name: string) {
    const t = this.topics.get(name);
    if (t === undefined) throw rpcError(status.NOT_FOUND, 'Topic not found');
    return { name: t.name, labels: t.labels };
  }

  private deleteTopic(name: string) {
    if (!this.topics.delete(name)) throw rpcError(status.NOT_FOUND, 'Topic not found');
    for (const s of this.subs.values()) if (s.topic === name) s.topic = '_deleted-topic_';
    return {};
  }

  private publish(req: any) {
    this.stats.publishCalls++;
    if (this.failNextPublishes.count > 0) {
      this.failNextPublishes.count--;
      throw rpcError(this.failNextPublishes.code, 'injected publish failure');
    }
    const t = this.topics.get(req.topic);
    if (t === undefined) throw rpcError(status.NOT_FOUND, 'Topic not found');
    if (!Array.isArray(req.messages) || req.messages.length === 0) throw rpcError(status.INVALID_ARGUMENT, 'No messages');
    const ids: string[] = [];
    for (const m of req.messages) {
      const stored: StoredMessage = {
        messageId: String(this.nextMessageId++),
        data: Buffer.from(m.data ?? []),
        attributes: { ...(m.attributes ?? {}) },
        orderingKey: m.orderingKey ?? '',
        publishTime: this.now(),
      };
      this.deliverToTopic(t.name, stored);
      ids.push(stored.messageId);
    }
    this.stats.published += ids.length;
    return { messageIds: ids };
  }

  private deliverToTopic(topic: string, stored: StoredMessage): void {
    const t = this.topics.get(topic);
    if (t === undefined) return;
    t.log.push(stored);
    for (const sub of this.subs.values()) {
      if (sub.topic !== topic) continue;
      const m: SubMessage = {
        msg: stored,
        deliveries: 0,
        state: 'ready',
        availableAt: 0,
        leaseExpiresAt: 0,
        ackId: null,
        ackIds: [],
        stream: null,
      };
      sub.ready.push(m);
      this.pump(sub);
    }
  }

  private createSubscription(req: any) {
    if (!SUB_RE.test(req.name)) throw rpcError(status.INVALID_ARGUMENT, `Invalid [subscriptions] name: (name=${req.name})`);
    if (this.subs.has(req.name)) throw rpcError(status.ALREADY_EXISTS, 'Subscription already exists');
    if (!this.topics.has(req.topic)) throw rpcError(status.NOT_FOUND, 'Topic not found');
    const ack = req.ackDeadlineSeconds === 0 ? 10 : req.ackDeadlineSeconds;
    if (ack < 10 || ack > 600) throw rpcError(status.INVALID_ARGUMENT, `Invalid ack deadline ${ack}: must be 10..600 seconds`);
    const dlp = req.deadLetterPolicy;
    if (dlp && dlp.deadLetterTopic) {
      const max = dlp.maxDeliveryAttempts === 0 ? 5 : dlp.maxDeliveryAttempts;
      if (max < 5 || max > 100) throw rpcError(status.INVALID_ARGUMENT, 'max_delivery_attempts must be between 5 and 100');
      if (!this.topics.has(dlp.deadLetterTopic)) throw rpcError(status.NOT_FOUND, 'Dead letter topic not found');
    }
    const s: SubscriptionState = {
      name: req.name,
      topic: req.topic,
      ackDeadlineSeconds: ack,
      retryPolicy: req.retryPolicy
        ? {
            minimumBackoff: req.retryPolicy.minimumBackoff ?? { seconds: 10 },
            maximumBackoff: req.retryPolicy.maximumBackoff ?? { seconds: 600 },
          }
        : null,
      deadLetterPolicy:
        dlp && dlp.deadLetterTopic ? { deadLetterTopic: dlp.deadLetterTopic, maxDeliveryAttempts: dlp.maxDeliveryAttempts || 5 } : null,
      enableExactlyOnceDelivery: Boolean(req.enableExactlyOnceDelivery),
      enableMessageOrdering: Boolean(req.enableMessageOrdering),
      filter: req.filter ?? '',
      labels: req.labels ?? {},
      ready: [],
      delayed: [],
      leased: new Map(),
      byAckId: new Map(),
      streams: [],
      pulls: [],
      rr: 0,
      acked: 0,
    };
    this.subs.set(s.name, s);
    return this.subView(s);
  }

  private subView(s: SubscriptionState) {
    return {
      name: s.name,
      topic: s.topic,
      ackDeadlineSeconds: s.ackDeadlineSeconds,
      retryPolicy: s.retryPolicy,
      deadLetterPolicy: s.deadLetterPolicy,
      enableExactlyOnceDelivery: s.enableExactlyOnceDelivery,
      enableMessageOrdering: s.enableMessageOrdering,
      filter: s.filter,
      labels: s.labels,
      state: 'ACTIVE',
    };
  }

  private getSub(name: string): SubscriptionState {
    const s = this.subs.get(name);
    if (s === undefined) throw rpcError(status.NOT_FOUND, 'Subscription does not exist');
    return s;
  }

  private deleteSubscription(name: string) {
    const s = this.getSub(name);
    for (const p of s.pulls) p.respond([]);
    for (const st of s.streams) {
      st.closed = true;
      st.call.emit('error', rpcError(status.NOT_FOUND, 'Subscription does not exist'));
    }
    this.subs.delete(name);
    return {};
  }

  /** Which ordering keys have a message out (or backing off): their later messages wait. */
  private busyKeys(sub: SubscriptionState): Set<string> {
    const busy = new Set<string>();
    if (!sub.enableMessageOrdering) return busy;
    for (const m of sub.leased.values()) if (m.msg.orderingKey !== '') busy.add(m.msg.orderingKey);
    for (const m of sub.delayed) if (m.msg.orderingKey !== '') busy.add(m.msg.orderingKey);
    return busy;
  }

  /** Take up to `max` deliverable messages, leasing them for `deadlineSeconds`. */
  private take(sub: SubscriptionState, max: number, deadlineSeconds: number, stream: StreamConsumer | null): unknown[] {
    const out: unknown[] = [];
    if (sub.ready.length === 0 || max <= 0) return out;
    const busy = this.busyKeys(sub);
    const now = this.now();
    const keep: SubMessage[] = [];
    let i = 0;
    for (; i < sub.ready.length && out.length < max; i++) {
      const m = sub.ready[i]!;
      const key = m.msg.orderingKey;
      if (key !== '' && busy.has(key)) {
        keep.push(m);
        continue;
      }
      if (key !== '' && sub.enableMessageOrdering) busy.add(key);
      m.deliveries++;
      m.state = 'leased';
      m.leaseExpiresAt = now + deadlineSeconds * 1000;
      m.ackId = `${this.nextAckId++}-${m.msg.messageId}`;
      m.ackIds.push(m.ackId);
      m.stream = stream;
      sub.leased.set(m.ackId, m);
      sub.byAckId.set(m.ackId, m);
      this.stats.delivered++;
      out.push({
        ackId: m.ackId,
        message: {
          data: m.msg.data,
          attributes: m.msg.attributes,
          messageId: m.msg.messageId,
          publishTime: { seconds: Math.floor(m.msg.publishTime / 1000), nanos: (m.msg.publishTime % 1000) * 1e6 },
          orderingKey: m.msg.orderingKey,
        },
        // The service reports attempts only where a dead-letter policy is set.
        deliveryAttempt: sub.deadLetterPolicy !== null ? m.deliveries : 0,
      });
    }
    sub.ready = [...keep, ...sub.ready.slice(i)];
    return out;
  }

  private pump(sub: SubscriptionState): void {
    if (sub.ready.length === 0) return;
    while (sub.pulls.length > 0 && sub.ready.length > 0) {
      const p = sub.pulls[0]!;
      const msgs = this.take(sub, p.max, sub.ackDeadlineSeconds, null);
      if (msgs.length === 0) break;
      sub.pulls.shift();
      p.respond(msgs);
    }
    const n = sub.streams.length;
    for (let k = 0; k < n && sub.ready.length > 0; k++) {
      const st = sub.streams[(sub.rr + k) % n]!;
      if (st.closed) continue;
      const room = st.maxOutstanding > 0 ? st.maxOutstanding - st.outstanding : 100;
      if (room <= 0) continue;
      const msgs = this.take(sub, Math.min(room, 100), st.ackDeadlineSeconds, st);
      if (msgs.length === 0) break;
      st.outstanding += msgs.length;
      st.call.write({ receivedMessages: msgs, subscriptionProperties: this.props(sub) });
    }
    sub.rr = n === 0 ? 0 : (sub.rr + 1) % n;
  }

  private props(sub: SubscriptionState) {
    return { exactlyOnceDeliveryEnabled: sub.enableExactlyOnceDelivery, messageOrderingEnabled: sub.enableMessageOrdering };
  }

  private unlease(sub: SubscriptionState, m: SubMessage): void {
    if (m.ackId !== null) sub.leased.delete(m.ackId);
    if (m.stream !== null) m.stream.outstanding = Math.max(0, m.stream.outstanding - 1);
    m.stream = null;
    m.ackId = null;
  }

  /** A lease ended without an ack (nack or expiry): back off, redeliver or dead-letter. */
  private release(sub: SubscriptionState, m: SubMessage, _why: 'nack' | 'expired'): void {
    this.unlease(sub, m);
    const dlp = sub.deadLetterPolicy;
    if (dlp !== null && m.deliveries >= dlp.maxDeliveryAttempts) {
      this.forgetAckIds(sub, m);
      this.stats.deadLettered++;
      this.deliverToTopic(dlp.deadLetterTopic, {
        messageId: String(this.nextMessageId++),
        data: m.msg.data,
        attributes: {
          ...m.msg.attributes,
          CloudPubSubDeadLetterSourceDeliveryCount: String(m.deliveries),
          CloudPubSubDeadLetterSourceSubscription: sub.name.split('/').pop()!,
          CloudPubSubDeadLetterSourceSubscriptionProject: sub.name.split('/')[1]!,
          CloudPubSubDeadLetterSourceTopicPublishTime: new Date(m.msg.publishTime).toISOString(),
        },
        orderingKey: '',
        publishTime: this.now(),
      });
      return;
    }
    const backoff =
      sub.retryPolicy === null
        ? 0
        : Math.min(
            durationMs(sub.retryPolicy.maximumBackoff),
            durationMs(sub.retryPolicy.minimumBackoff) * 2 ** Math.max(0, m.deliveries - 1),
          );
    if (backoff > 0) {
      m.state = 'delayed';
      m.availableAt = this.now() + backoff;
      sub.delayed.push(m);
    } else {
      this.makeReady(sub, m, true);
    }
  }

  private makeReady(sub: SubscriptionState, m: SubMessage, redelivery: boolean): void {
    m.state = 'ready';
    // A redelivered message goes first so an ordering key keeps its order.
    if (redelivery) sub.ready.unshift(m);
    else sub.ready.push(m);
  }

  private forgetAckIds(sub: SubscriptionState, m: SubMessage): void {
    for (const id of m.ackIds) sub.byAckId.delete(id);
  }

  private invalidAckIds(sub: SubscriptionState, ackIds: readonly string[]): string[] {
    // Exactly-once: only the current lease's ack id is valid.
    return ackIds.filter((id) => !sub.leased.has(id));
  }

  private ackErrorFor(invalid: readonly string[]): grpc.ServiceError {
    const md = new grpc.Metadata();
    const info = this.errorInfoType!.encode(
      this.errorInfoType!.fromObject({
        reason: 'EXACTLY_ONCE_ACKID_FAILURE',
        domain: 'pubsub.googleapis.com',
        metadata: Object.fromEntries(invalid.map((id) => [id, 'PERMANENT_FAILURE_INVALID_ACK_ID'])),
      }),
    ).finish();
    const st = this.statusType!.encode(
      this.statusType!.fromObject({
        code: status.FAILED_PRECONDITION,
        message: 'Some acknowledgement ids in the request were invalid.',
        details: [{ type_url: 'type.googleapis.com/google.rpc.ErrorInfo', value: info }],
      }),
    ).finish();
    md.set('grpc-status-details-bin', Buffer.from(st));
    return rpcError(status.FAILED_PRECONDITION, 'Some acknowledgement ids in the request were invalid.', md);
  }

  private acknowledge(subscription: string, ackIds: string[]) {
    const sub = this.getSub(subscription);
    this.stats.acks += ackIds.length;
    const invalid = sub.enableExactlyOnceDelivery ? this.invalidAckIds(sub, ackIds) : [];
    for (const id of ackIds) {
      if (invalid.includes(id)) continue;
      const m = sub.byAckId.get(id);
      if (m === undefined) continue;
      this.forgetAckIds(sub, m);
      if (m.state === 'leased') this.unlease(sub, m);
      else if (m.state === 'ready') sub.ready = sub.ready.filter((x) => x !== m);
      else sub.delayed = sub.delayed.filter((x) => x !== m);
      sub.acked++;
    }
    this.pump(sub);
    if (invalid.length > 0) throw this.ackErrorFor(invalid);
    return {};
  }

  private modifyAckDeadline(subscription: string, ackIds: string[], seconds: number) {
    const sub = this.getSub(subscription);
    this.stats.modAcks += ackIds.length;
    if (seconds < 0 || seconds > 600) throw rpcError(status.INVALID_ARGUMENT, `Invalid ack deadline ${seconds}`);
    const invalid = sub.enableExactlyOnceDelivery ? this.invalidAckIds(sub, ackIds) : [];
    for (const id of ackIds) {
      const m = sub.leased.get(id);
      if (m === undefined) continue;
      if (seconds === 0) this.release(sub, m, 'nack');
      else m.leaseExpiresAt = this.now() + seconds * 1000;
    }
    this.pump(sub);
    if (invalid.length > 0) throw this.ackErrorFor(invalid);
    return {};
  }

  private pull(call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>): void {
    this.stats.pullCalls++;
    let sub: SubscriptionState;
    try {
      sub = this.getSub(call.request.subscription);
    } catch (e) {
      cb(e as grpc.ServiceError, null);
      return;
    }
    const max = call.request.maxMessages > 0 ? call.request.maxMessages : 1000;
    this.expire(sub);
    const now = this.take(sub, max, sub.ackDeadlineSeconds, null);
    if (now.length > 0 || call.request.returnImmediately) {
      cb(null, { receivedMessages: now });
      return;
    }
    let done = false;
    const pending: PendingPull = {
      max,
      respond: (msgs) => {
        if (done) {
          // The caller went away: put what we leased back.
          for (const r of msgs as Array<{ ackId: string }>) {
            const m = sub.leased.get(r.ackId);
            if (m !== undefined) {
              m.deliveries--;
              this.unlease(sub, m);
              this.makeReady(sub, m, true);
            }
          }
          return;
        }
        done = true;
        clearTimeout(timer);
        cb(null, { receivedMessages: msgs });
      },
    };
    const timer = setTimeout(() => {
      sub.pulls = sub.pulls.filter((p) => p !== pending);
      pending.respond([]);
    }, this.pullWaitMs);
    timer.unref();
    call.on('cancelled', () => {
      done = true;
      clearTimeout(timer);
      sub.pulls = sub.pulls.filter((p) => p !== pending);
    });
    sub.pulls.push(pending);
  }

  private streamingPull(call: grpc.ServerDuplexStream<any, any>): void {
    this.stats.streamingPulls++;
    let consumer: StreamConsumer | null = null;
    const close = () => {
      if (consumer === null || consumer.closed) return;
      consumer.closed = true;
      consumer.sub.streams = consumer.sub.streams.filter((s) => s !== consumer);
    };
    call.on('data', (req: any) => {
      try {
        if (consumer === null) {
          const sub = this.getSub(req.subscription);
          const deadline = req.streamAckDeadlineSeconds;
          if (!(deadline >= 10 && deadline <= 600)) throw rpcError(status.INVALID_ARGUMENT, `Invalid stream ack deadline ${deadline}`);
          consumer = {
            id: this.nextStreamId++,
            sub,
            call,
            ackDeadlineSeconds: deadline,
            maxOutstanding: Number(req.maxOutstandingMessages) || 0,
            outstanding: 0,
            closed: false,
          };
          sub.streams.push(consumer);
          call.write({ receivedMessages: [], subscriptionProperties: this.props(sub) });
          this.pump(sub);
          return;
        }
        if (req.ackIds?.length) this.acknowledge(consumer.sub.name, req.ackIds);
        if (req.modifyDeadlineAckIds?.length) {
          req.modifyDeadlineAckIds.forEach((id: string, i: number) =>
            this.modifyAckDeadline(consumer!.sub.name, [id], req.modifyDeadlineSeconds[i] ?? 0),
          );
        }
        if (req.streamAckDeadlineSeconds >= 10) consumer.ackDeadlineSeconds = req.streamAckDeadlineSeconds;
      } catch (e) {
        close();
        call.emit('error', e);
      }
    });
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('cancelled', close);
    call.on('error', close);
  }
}
