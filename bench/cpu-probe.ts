/**
 * How fast the proxy's CPU is right now, at the work a proxy does. This is a virtual machine: when the
 * host is busy, system calls and loopback traffic get slower (measured here: 2,000 loopback round
 * trips took 51 to 121 ms within a minute while an integer loop stayed within 113-120 ms), and the
 * guest still counts the time as CPU time (no steal is reported), so neither "other load" nor "proxy
 * CPU" can see it. The probe is a child pinned to the proxy CPU that, when asked, times loopback TCP
 * round trips (the signal) and an integer loop (for contrast); the bench asks between runs, when the
 * proxy is idle, and treats round trips much slower than the best seen as a slow machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Round trips this much slower than the run's best mean the machine is slow now. */
export const SLOW_MACHINE_FACTOR = 1.5;
const ROUND_TRIPS = 2000;
const PAYLOAD_BYTES = 64;

/** One probe: loopback round trips and the integer loop, in ms. */
export interface ProbeTimes {
  readonly roundTripsMs: number;
  readonly loopMs: number;
}

/** A probe child pinned to one CPU; each `measure()` answers with the times of both kinds of work. */
export class CpuProbe {
  /** Every measurement. */
  readonly times: ProbeTimes[] = [];
  readonly #child: ChildProcess;
  #pending: ((times: ProbeTimes) => void) | undefined;

  constructor(cpu: number | null) {
    const node = [process.execPath, fileURLToPath(import.meta.url), '--child'];
    const [command, args] = cpu === null ? [node[0], node.slice(1)] : ['taskset', ['-c', String(cpu), ...node]];
    this.#child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.#child.on('message', (times: ProbeTimes) => {
      const resolve = this.#pending;
      this.#pending = undefined;
      resolve?.(times);
    });
  }

  /** Times both kinds of work now and records them. */
  measure(): Promise<ProbeTimes> {
    return new Promise((resolve) => {
      this.#pending = (times) => {
        this.times.push(times);
        resolve(times);
      };
      this.#child.send('measure');
    });
  }

  /** Fastest round trips seen so far (the machine at its best during this run). */
  get bestRoundTripsMs(): number {
    return Math.min(...this.times.map((t) => t.roundTripsMs));
  }

  /** Whether round trips of `ms` are slow against the best seen. */
  isSlow(ms: number): boolean {
    return this.times.length > 1 && ms > this.bestRoundTripsMs * SLOW_MACHINE_FACTOR;
  }

  stop(): void {
    this.#child.kill();
  }
}

/** A few tens of milliseconds of integer work that the JIT cannot drop. */
function fixedLoop(): number {
  let x = 0;
  for (let i = 0; i < 20_000_000; i++) x = (x * 31 + i) | 0;
  return x;
}

function roundTrips(client: Socket, count: number): Promise<number> {
  const payload = Buffer.alloc(PAYLOAD_BYTES, 1);
  return new Promise((resolve) => {
    let left = count;
    const startedAt = performance.now();
    const onData = () => {
      if (--left > 0) return void client.write(payload);
      client.off('data', onData);
      resolve(performance.now() - startedAt);
    };
    client.on('data', onData);
    client.write(payload);
  });
}

async function runChild(): Promise<void> {
  process.on('disconnect', () => process.exit(0));
  const server = createServer((socket) => socket.on('data', (chunk) => socket.write(chunk)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  client.setNoDelay(true);
  await new Promise((resolve) => client.once('connect', resolve));
  process.on('message', async () => {
    const roundTripsMs = await roundTrips(client, ROUND_TRIPS);
    const startedAt = performance.now();
    fixedLoop();
    process.send!({ roundTripsMs, loopMs: performance.now() - startedAt } satisfies ProbeTimes);
  });
}

if (process.argv.includes('--child')) await runChild();
