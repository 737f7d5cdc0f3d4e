import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultMinRetries, RetryBudget } from '../../src/breakers/retry-budget.ts';

const t0 = 1_700_000_000_000;

/** Records `requests` requests at nowMs, each asking for one retry; returns the retries granted. */
function burst(budget: RetryBudget, requests: number, nowMs: number): number {
  let granted = 0;
  for (let i = 0; i < requests; i++) {
    budget.recordRequest(nowMs);
    if (budget.tryAcquire(nowMs)) granted++;
  }
  return granted;
}

test('retries stay within budgetPercent of requests, plus the minimum for quiet routes', () => {
  const table: [percent: number, requests: number, retries: number][] = [
    [20, 1000, 200], [20, 100, 20], [20, 10, defaultMinRetries], [50, 10, 5], [100, 7, 7], [20, 1, 1],
  ];
  for (const [percent, requests, retries] of table) {
    assert.equal(burst(new RetryBudget(percent), requests, t0), retries, `${percent}% of ${requests}`);
  }
});

test('budgetPercent 0 allows no retries at all', () => {
  assert.equal(burst(new RetryBudget(0), 100, t0), 0);
});

test('the window slides: spent retries come back once their second is 10 s old', () => {
  const budget = new RetryBudget(20);
  assert.equal(burst(budget, 100, t0), 20);
  assert.equal(budget.tryAcquire(t0 + 9_999), false, 'still inside the window');
  assert.equal(burst(budget, 100, t0 + 10_000), 20, 'a fresh window');
});

test('a clock that steps back does not corrupt the counts', () => {
  const budget = new RetryBudget(20);
  burst(budget, 50, t0);
  assert.equal(burst(budget, 50, t0 - 5000), 10);
  assert.equal(budget.tryAcquire(t0), false);
});
