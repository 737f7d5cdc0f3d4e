/**
 * Preloaded into a target by `npm run bench:trace` (`--import`): records the process's garbage
 * collections and event-loop stalls with wall-clock times, so the slow requests of a run can be laid
 * next to them. A stall is a 2 ms interval timer that fired more than 1 ms late: the loop was busy or
 * the process did not get the CPU. Lines go to `$SWITCHYARD_TRACE_DIR/trace-<pid>.jsonl`, every 500 ms.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const dir = process.env.SWITCHYARD_TRACE_DIR;
if (dir !== undefined) {
  const file = join(dir, `trace-${process.pid}.jsonl`);
  const TICK_MS = 2;
  const LATE_MS = 1;
  const epochOf = (at) => performance.timeOrigin + at;
  let pending = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      pending.push({ type: 'gc', kind: entry.detail?.kind ?? 0, atMs: epochOf(entry.startTime), ms: entry.duration });
    }
  }).observe({ entryTypes: ['gc'] });
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    const late = now - last - TICK_MS;
    if (late > LATE_MS) pending.push({ type: 'stall', atMs: epochOf(last + TICK_MS), ms: late });
    last = now;
  }, TICK_MS).unref();
  const flush = () => {
    if (pending.length === 0) return;
    appendFileSync(file, pending.map((event) => JSON.stringify(event)).join('\n') + '\n');
    pending = [];
  };
  setInterval(flush, 500).unref();
  process.on('exit', flush);
}
