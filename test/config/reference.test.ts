import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigReference } from '../../src/config/reference.ts';
import { referenceEnd, referenceStart, replaceReferenceBlock } from '../../src/config/write-reference.ts';

const readmePath = fileURLToPath(new URL('../../README.md', import.meta.url));

test('the config reference lists every key with its type, default and description', () => {
  const reference = renderConfigReference();
  assert.match(reference, /^\| key \| type \| default \| description \|\n/);
  assert.match(reference, /^\| `listen\.port` \| integer 0–65535 \| `8080` \| traffic listener port \|$/m);
  assert.match(reference, /^\| `clusters\.<name>\.role` \| primary \\\| trade \\\| standby \| `trade` \| /m);
  assert.match(reference, /^\| `clusters\.<name>\.endpoints` \| list of string .*\| required \| /m);
  assert.match(reference, /^\| `routes\[\]\.standby\.cluster` \| string \| required \| /m);
  assert.match(reference, /^\| `schedules\[\]\.dials` \| map of name → number 0–100 \| required \| /m);
});

test('the README embeds the current config reference', (t) => {
  const readme = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : undefined;
  if (readme === undefined || !readme.includes(referenceStart) || !readme.includes(referenceEnd)) {
    t.skip(`README.md has no ${referenceStart} ... ${referenceEnd} block yet`);
    return;
  }
  const refreshed = replaceReferenceBlock(readme, renderConfigReference());
  assert.equal(readme, refreshed, 'README.md is out of date: run `node src/config/write-reference.ts`');
});

test('the README block is replaced between its markers only', () => {
  const readme = `# Switchyard\n\n${referenceStart}\nold\n${referenceEnd}\n\nmore\n`;
  assert.equal(replaceReferenceBlock(readme, '| new |\n'), `# Switchyard\n\n${referenceStart}\n| new |\n${referenceEnd}\n\nmore\n`);
  assert.equal(replaceReferenceBlock('# no markers\n', '| new |\n'), undefined);
});
