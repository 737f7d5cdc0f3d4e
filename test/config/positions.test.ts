import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineCounter, parseDocument } from 'yaml';
import { positionOf, renderPath } from '../../src/config/positions.ts';

test('paths render with dots for keys and brackets for indices', () => {
  assert.equal(renderPath(['clusters', 'trade-east', 'endpoints', 0]), 'clusters.trade-east.endpoints[0]');
  assert.equal(renderPath(['routes', 2, 'match', 'pathPrefix']), 'routes[2].match.pathPrefix');
  assert.equal(renderPath(['regions', 'east china']), 'regions["east china"]');
  assert.equal(renderPath([]), '');
});

const text = [
  'clusters:',
  '  trade-east:',
  '    endpoints:',
  '      - http://10.1.0.10',
  '    shared: &defaults { weight: 5 }',
  '  trade-south: { reuse: *defaults }',
].join('\n');

function at(path: (string | number)[], target?: 'key' | 'value'): string {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const { line, column } = positionOf(doc, lineCounter, path, target);
  return `${line}:${column}`;
}

test('a value path points at the value, a key target at the key', () => {
  assert.equal(at(['clusters', 'trade-east', 'endpoints', 0]), '4:9');
  assert.equal(at(['clusters', 'trade-east', 'endpoints']), '4:7');
  assert.equal(at(['clusters', 'trade-east', 'endpoints'], 'key'), '3:5');
});

test('a path that is not in the document points at its nearest existing parent key', () => {
  assert.equal(at(['clusters', 'trade-east', 'region']), '2:3');
  assert.equal(at(['clusters', 'trade-east', 'endpoints', 3]), '3:5');
  assert.equal(at(['routes']), '1:1');
});

test('paths through an alias follow it to the anchored node', () => {
  assert.equal(at(['clusters', 'trade-south', 'reuse', 'weight']), '5:33');
});
