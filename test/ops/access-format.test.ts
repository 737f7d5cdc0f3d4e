/**
 * The access log formats durations from integers (it is on every request's path); the result must be
 * the same JSON number as rounding to the microsecond would give.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsoTime, milliseconds, quoted } from '../../src/log/access.ts';

test('durations print as the microsecond-rounded JSON number', () => {
  const samples = [0, 0.0004, 0.0005, 0.05, 1, 1.2, 1.2345678, 12.0009, 999.9999, 30_000.25, 86_400_000.001];
  for (let i = 0; i < 2000; i++) samples.push(Math.random() * 10 ** Math.floor(Math.random() * 7));
  for (const ms of samples) {
    const printed = milliseconds(ms);
    assert.match(printed, /^\d+(\.\d{1,3})?$/, `${ms} printed as ${printed}`);
    assert.equal(JSON.parse(printed), Math.round(ms * 1000) / 1000, `${ms} printed as ${printed}`);
  }
});

test('durations that are not finite still print a JSON number', () => {
  for (const ms of [Number.NaN, Number.POSITIVE_INFINITY, -1]) assert.equal(typeof JSON.parse(milliseconds(ms)), 'number');
});

test('the access time is what Date#toISOString prints, across seconds and clock steps back', () => {
  const clock = new IsoTime();
  const start = Date.UTC(2026, 10, 11, 23, 59, 59, 990);
  const samples = [0, 1, 9, 10, 99, 100, 999, 1000, start, start];
  for (let ms = start; ms < start + 30; ms++) samples.push(ms);
  samples.push(start - 5_000, start + 86_400_000 + 7, Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2000, 0, 1));
  for (let i = 0; i < 2000; i++) samples.push(Math.floor(Math.random() * 4_102_444_800_000));
  for (const ms of samples) assert.equal(clock.format(ms), new Date(ms).toISOString(), `at ${ms}`);
});

test('access strings are the JSON strings JSON.stringify makes, escaping or not', () => {
  const samples = ['', 'abc', '/catalog/items/42', '2001:db8::1', '"', '\\', 'a"b\\c', '\u0000', '\u001f', '\u007f', 'é', '😀', '\ud800', 'tab\there', '~ !#$%&\'()*+,-./:;<=>?@[]^_`{|}'];
  for (let i = 0; i < 2000; i++) samples.push(String.fromCharCode(...Array.from({ length: 1 + Math.floor(Math.random() * 12) }, () => Math.floor(Math.random() * 0x110))));
  for (const text of samples) {
    assert.equal(quoted(text), JSON.stringify(text), JSON.stringify(text));
    assert.equal(JSON.parse(quoted(text)), text);
  }
});
