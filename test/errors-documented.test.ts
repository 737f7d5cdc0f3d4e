import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errorCatalogue } from '../src/errors.ts';

test('every error code of the catalogue is documented in the README with its status', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  for (const [code, spec] of Object.entries(errorCatalogue)) {
    assert.match(readme, new RegExp(`\\| \`${code}\` \\| ${spec.status} \\|`), `README documents ${code} (${spec.status})`);
  }
});
