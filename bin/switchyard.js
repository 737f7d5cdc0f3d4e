#!/usr/bin/env node
// The `switchyard` command. Runs the compiled dist/main.js when it exists (an installed package, the
// container image); otherwise src/main.ts through Node's type stripping, so a git checkout works
// without a build step. Node refuses to strip types under node_modules, hence the clear error there.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const minimumNodeMajor = 24;
const nodeMajor = Number(process.versions.node.split('.')[0]);
if (nodeMajor < minimumNodeMajor) {
  process.stderr.write(`switchyard: needs Node ${minimumNodeMajor} or later (this is ${process.version})\n`);
  process.exit(1);
}

const compiled = new URL('../dist/main.js', import.meta.url);
const source = new URL('../src/main.ts', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else if (fileURLToPath(source).includes('/node_modules/')) {
  process.stderr.write('switchyard: dist/ is missing from this installed package; run `npm run build` in it\n');
  process.exit(1);
} else {
  await import(source.href);
}
