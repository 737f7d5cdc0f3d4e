/**
 * The spool's Redis operations (SPEC §5). Each change that touches a stream and its byte counter is one
 * Lua script, so the counter never drifts from the stream on a crash between two commands, and a
 * request counts as spooled only once Redis answered the append. The replayer lease is a key set with
 * NX PX and renewed by its holder only.
 */
import type { RedisClient } from '../state/redis-client.ts';
import { entryFields, parseEntry, type NewSpoolEntry, type SpoolEntry } from './entry.ts';
import type { SpoolKeys } from './keys.ts';

/** Appends unless the stream would hold more than ARGV[1] bytes; nil when full. */
const appendScript = `
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
local size = tonumber(ARGV[2])
if used + size > tonumber(ARGV[1]) then return false end
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
redis.call('INCRBY', KEYS[2], size)
return id`;

/** Deletes a delivered entry and gives its bytes back; 0 when it was already gone (delivered twice). */
const ackScript = `
if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('DECRBY', KEYS[2], ARGV[2]) <= 0 then redis.call('DEL', KEYS[2]) end
return 1`;

/** Moves an entry, fields and all, to the dead-letter stream with the reason; 0 when it was already gone. */
const deadLetterScript = `
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then return 0 end
local fields = found[1][2]
table.insert(fields, 'spoolId') table.insert(fields, ARGV[1])
table.insert(fields, 'reason') table.insert(fields, ARGV[3])
table.insert(fields, 'deadAt') table.insert(fields, ARGV[4])
redis.call('XADD', KEYS[3], '*', unpack(fields))
redis.call('XDEL', KEYS[1], ARGV[1])
if redis.call('DECRBY', KEYS[2], ARGV[2]) <= 0 then redis.call('DEL', KEYS[2]) end
return 1`;

/** Takes the lease when free, renews it when held by ARGV[1]; 1 when held after the call. */
const leaseScript = `
local holder = redis.call('GET', KEYS[1])
if holder == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`;

/** Gives the lease up if ARGV[1] holds it. */
const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

/** Depth, oldest arrival, bytes, dead letters and lease holder, without moving any body over the wire. */
const statsScript = `
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local at = false
if #first > 0 then
  local f = first[1][2]
  for i = 1, #f, 2 do if f[i] == 'at' then at = f[i + 1] end end
end
return {redis.call('XLEN', KEYS[1]), at, redis.call('GET', KEYS[2]), redis.call('XLEN', KEYS[3]), redis.call('GET', KEYS[4])}`;

/** One route's spool as read by status(). */
export interface SpoolStats {
  readonly depth: number;
  /** Arrival time of the oldest entry, epoch ms; undefined when empty. */
  readonly oldestArrivedAtMs: number | undefined;
  readonly bytes: number;
  readonly deadLetters: number;
  /** Instance id holding the replayer lease. */
  readonly replayer: string | undefined;
}

/** Why an entry was given up on. */
export type DeadLetterReason = 'max_age' | `rejected_${number}` | 'malformed';

interface ScriptedClient {
  spoolAppend(...args: (string | number | Buffer)[]): Promise<string | null>;
  spoolAck(...args: (string | number)[]): Promise<number>;
  spoolDeadLetter(...args: (string | number)[]): Promise<number>;
  spoolLease(...args: (string | number)[]): Promise<number>;
  spoolRelease(...args: (string | number)[]): Promise<number>;
  spoolStats(...args: string[]): Promise<[number, string | null, string | null, number, string | null]>;
}

/** Spool commands on one Redis client; every method rejects when Redis cannot be reached. */
export class SpoolStore {
  private readonly client: RedisClient;
  private readonly scripts: ScriptedClient;

  constructor(client: RedisClient) {
    this.client = client;
    const define = (name: keyof ScriptedClient, numberOfKeys: number, lua: string) => client.defineCommand(name, { numberOfKeys, lua });
    define('spoolAppend', 2, appendScript);
    define('spoolAck', 2, ackScript);
    define('spoolDeadLetter', 3, deadLetterScript);
    define('spoolLease', 1, leaseScript);
    define('spoolRelease', 1, releaseScript);
    define('spoolStats', 4, statsScript);
    this.scripts = client as unknown as ScriptedClient;
  }

  /** Appends an entry; its stream id, or undefined when the spool is at `maxBytes`. */
  async append(keys: SpoolKeys, entry: NewSpoolEntry, sizeBytes: number, maxBytes: number): Promise<string | undefined> {
    const id = await this.scripts.spoolAppend(keys.stream, keys.bytes, maxBytes, sizeBytes, ...entryFields(entry, sizeBytes));
    return id ?? undefined;
  }

  /**
   * The oldest `count` entries after `afterId` (exclusive; undefined: from the start). Entries that do not
   * parse come back as `{ id, malformed: true }` so they can be dead-lettered instead of blocking the route.
   */
  async head(keys: SpoolKeys, count: number, afterId?: string): Promise<(SpoolEntry | MalformedEntry)[]> {
    const rows = await this.client.xrangeBuffer(keys.stream, afterId === undefined ? '-' : `(${afterId}`, '+', 'COUNT', count);
    return rows.map(([id, fields]) => parseEntry(id, fields) ?? { id: id.toString(), malformed: true as const });
  }

  /** Removes a delivered entry; false when it was already gone. */
  async ack(keys: SpoolKeys, id: string, sizeBytes: number): Promise<boolean> {
    return await this.scripts.spoolAck(keys.stream, keys.bytes, id, sizeBytes) === 1;
  }

  /** Moves an entry to the dead-letter stream; false when it was already gone. */
  async deadLetter(keys: SpoolKeys, id: string, sizeBytes: number, reason: DeadLetterReason, nowMs: number): Promise<boolean> {
    return await this.scripts.spoolDeadLetter(keys.stream, keys.bytes, keys.dead, id, sizeBytes, reason, nowMs) === 1;
  }

  /** Takes or renews the replayer lease for `ttlMs`; true while `holder` has it. */
  async holdLease(keys: SpoolKeys, holder: string, ttlMs: number): Promise<boolean> {
    return await this.scripts.spoolLease(keys.lease, holder, ttlMs) === 1;
  }

  /** Gives the lease up (clean shutdown), so another instance takes over without waiting for the TTL. */
  async releaseLease(keys: SpoolKeys, holder: string): Promise<void> {
    await this.scripts.spoolRelease(keys.lease, holder);
  }

  /** Depth, oldest arrival, bytes, dead letters and replayer of one route. */
  async stats(keys: SpoolKeys): Promise<SpoolStats> {
    const [depth, at, bytes, dead, replayer] = await this.scripts.spoolStats(keys.stream, keys.bytes, keys.dead, keys.lease);
    return {
      depth, oldestArrivedAtMs: at === null ? undefined : Number(at), bytes: Number(bytes ?? 0), deadLetters: dead,
      replayer: replayer ?? undefined,
    };
  }
}

/** A stream entry that is not a spool entry (written by something else, or a future format). */
export interface MalformedEntry {
  readonly id: string;
  readonly malformed: true;
}
