import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/log/logger.ts';
import { RefusalReporter, type RefusalReason } from '../../src/proxy/refusals.ts';

function reporter(windowMs: number) {
  const lines: { reason: string; refused: number; msg: string }[] = [];
  const counted: RefusalReason[] = [];
  const logger = createLogger({ stream: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  return { lines, counted, refusals: new RefusalReporter(logger, (reason) => counted.push(reason), windowMs) };
}

// Windows of 300 ms and checks well inside them, so a loaded machine's late timers cannot reorder them.
test('every refusal is counted; the log has the first at once, then one sum per window, and nothing once quiet', async () => {
  const { lines, counted, refusals } = reporter(300);
  for (let i = 0; i < 5; i++) refusals.refused('bad_request');
  refusals.refused('max_connections');
  assert.equal(counted.length, 6);
  assert.deepEqual(lines.map((l) => [l.reason, l.refused]), [['bad_request', 1], ['max_connections', 1]]);
  assert.match(lines[1].msg, /limits\.maxConnections/);

  await sleep(450);
  assert.deepEqual(lines.slice(2).map((l) => [l.reason, l.refused]), [['bad_request', 4]], 'the window summed the other four');
  refusals.refused('bad_request');
  assert.equal(lines.length, 3, 'the window after a busy one is still open');

  await sleep(1200);
  assert.deepEqual(lines.slice(3).map((l) => [l.reason, l.refused]), [['bad_request', 1]]);
  refusals.refused('bad_request');
  assert.deepEqual(lines.slice(4).map((l) => [l.reason, l.refused]), [['bad_request', 1]], 'after a quiet window the next is logged at once');
});
