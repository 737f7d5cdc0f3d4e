/**
 * The Redis store (SPEC §6). One cycle is one pipeline: publish this instance's report, refresh its
 * membership, and read the members known from the last cycle, drains, dials and external reports. Only
 * members that joined since the last cycle cost a second round trip.
 */
import type { ChainableCommander } from 'ioredis';
import type { DialOverride } from './snapshot.ts';
import { keyLayout, type KeyLayout } from './keys.ts';
import { ValueReader, type ExternalReport, type InstanceReport, type RawValue } from './report.ts';
import { createRedisClient, type RedisClient } from './redis-client.ts';
import type { StateLogger } from './logger.ts';
import type { ExchangeRequest, FleetRead, Member, StateStore } from './store.ts';

export interface RedisStateStoreOptions {
  /** `state.redis`; may hold a password, so it is never logged. */
  readonly url: string;
  readonly keyPrefix: string;
  /** Sizes the command timeout: a cycle must not outlast its interval by much. */
  readonly publishIntervalMs: number;
  readonly logger: StateLogger;
}

type Results = [Error | null, unknown][];

const minCommandTimeoutMs = 500;
const maxCommandTimeoutMs = 2000;
const connectTimeoutMs = 2000;
const maxBackoffMs = 2000;
const disconnectTimeoutMs = 200;

/** Fleet state in Redis (standalone, Sentinel or Cluster). */
export class RedisStateStore implements StateStore {
  readonly kind = 'redis';
  private readonly client: RedisClient;
  private readonly keys: KeyLayout;
  private readonly values: ValueReader;
  /** Other members seen last cycle: their reports are read in the cycle's single pipeline. */
  private known: readonly string[] = [];

  constructor(options: RedisStateStoreOptions) {
    const commandTimeoutMs = Math.min(maxCommandTimeoutMs, Math.max(minCommandTimeoutMs, options.publishIntervalMs));
    this.client = createRedisClient(options.url, { commandTimeoutMs, connectTimeoutMs, maxBackoffMs, disconnectTimeoutMs }, options.logger);
    this.keys = keyLayout(options.keyPrefix);
    this.values = new ValueReader(options.logger);
  }

  async connect(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    // A failed first attempt rejects, but the client keeps reconnecting in the background.
    const connected = this.client.connect().then(() => true, () => false);
    try {
      return await Promise.race([connected, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async exchange(request: ExchangeRequest): Promise<FleetRead> {
    const k = this.keys;
    const self = request.own?.id;
    const keys = [
      ...request.clusters.map(k.drain), ...request.routes.map(k.dial), ...request.clusters.map(k.external),
      ...this.known.map(k.instance),
    ];
    const pipeline = this.client.pipeline();
    const published = request.own === undefined ? 0 : this.publish(pipeline, request.own, request);
    pipeline.zrangebyscore(k.instances, request.nowMs - request.staleAfterMs, '+inf', 'WITHSCORES');
    const results = await run(getAll(pipeline, keys));
    for (let i = 0; i < published; i++) this.value(results[i], i === 0 ? k.instance(self!) : k.instances);
    const members = this.members(results[published]);
    const raw = new Map<string, RawValue>();
    keys.forEach((key, i) => raw.set(key, this.value(results[published + 1 + i], key) as RawValue));
    await this.readNewcomers(members, self, raw);
    this.known = members.map((m) => m.id).filter((id) => id !== self);
    return this.parse(request, members, raw);
  }

  async setDrain(cluster: string, drained: boolean): Promise<void> {
    if (drained) await this.client.set(this.keys.drain(cluster), '1');
    else await this.client.del(this.keys.drain(cluster));
  }

  async setDialOverride(route: string, override: DialOverride, ttlMs: number): Promise<void> {
    await this.client.set(this.keys.dial(route), JSON.stringify(override), 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async clearDialOverride(route: string): Promise<void> {
    await this.client.del(this.keys.dial(route));
  }

  async removeInstance(id: string): Promise<void> {
    await run(this.client.pipeline().del(this.keys.instance(id)).zrem(this.keys.instances, id));
  }

  async close(): Promise<void> {
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => this.client.disconnect());
    } else {
      this.client.disconnect();
    }
  }

  /** Queues this instance's report and membership refresh; returns how many commands it queued. */
  private publish(pipeline: ChainableCommander, own: InstanceReport, request: ExchangeRequest): number {
    const k = this.keys;
    pipeline
      .set(k.instance(own.id), JSON.stringify(own), 'PX', request.reportTtlMs)
      .zadd(k.instances, request.nowMs, own.id)
      .zremrangebyscore(k.instances, '-inf', request.nowMs - request.reportTtlMs)
      .pexpire(k.instances, request.reportTtlMs);
    return 4;
  }

  private async readNewcomers(members: readonly Member[], self: string | undefined, raw: Map<string, RawValue>): Promise<void> {
    const keys = members.filter((m) => m.id !== self && !raw.has(this.keys.instance(m.id))).map((m) => this.keys.instance(m.id));
    if (keys.length === 0) return;
    const results = await run(getAll(this.client.pipeline(), keys));
    keys.forEach((key, i) => raw.set(key, this.value(results[i], key) as RawValue));
  }

  private members(result: [Error | null, unknown]): Member[] {
    const flat = this.value(result, this.keys.instances);
    if (!Array.isArray(flat)) return [];
    const members: Member[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const atMs = Number(flat[i + 1]);
      if (typeof flat[i] === 'string' && Number.isFinite(atMs)) members.push({ id: flat[i], atMs });
    }
    return members;
  }

  private parse(request: ExchangeRequest, members: readonly Member[], raw: ReadonlyMap<string, RawValue>): FleetRead {
    const k = this.keys;
    const reports: InstanceReport[] = [];
    for (const { id } of members) {
      if (id === request.own?.id) continue;
      const report = this.values.instanceReport(k.instance(id), raw.get(k.instance(id)));
      if (report !== undefined && report.id === id && request.nowMs - report.at <= request.staleAfterMs) reports.push(report);
    }
    const drained = new Set(request.clusters.filter((c) => this.values.drained(k.drain(c), raw.get(k.drain(c)))));
    const dialOverrides = new Map<string, DialOverride>();
    for (const route of request.routes) {
      const dial = this.values.dialOverride(k.dial(route), raw.get(k.dial(route)));
      if (dial !== undefined && dial.expiresAtMs > request.nowMs) dialOverrides.set(route, dial);
    }
    const external = new Map<string, ExternalReport>();
    for (const cluster of request.clusters) {
      const report = this.values.externalReport(k.external(cluster), raw.get(k.external(cluster)));
      if (report !== undefined) external.set(cluster, report);
    }
    return { members, reports, drained, dialOverrides, external };
  }

  /**
   * A command's reply. A key of the wrong type is logged and reads as undefined (unreadable); any other
   * error (timeout, disconnect, cluster down) fails the whole cycle.
   */
  private value(result: [Error | null, unknown] | undefined, key: string): unknown {
    if (result === undefined) throw new Error('redis pipeline returned fewer replies than commands');
    const [err, reply] = result;
    if (err === null) return reply;
    if (err.message.startsWith('WRONGTYPE')) {
      this.values.wrongType(key);
      return undefined;
    }
    throw err;
  }
}

function getAll(pipeline: ChainableCommander, keys: readonly string[]): ChainableCommander {
  for (const key of keys) pipeline.get(key);
  return pipeline;
}

async function run(pipeline: ChainableCommander): Promise<Results> {
  const results = await pipeline.exec();
  if (results === null) throw new Error('redis pipeline was discarded');
  return results;
}
