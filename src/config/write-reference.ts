/**
 * Refreshes the configuration reference embedded in README.md, between the config-reference markers,
 * from the schema: `node src/config/write-reference.ts`. A test fails while the two differ.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigReference } from './reference.ts';

/** Marks where the generated reference starts in README.md. */
export const referenceStart = '<!-- config-reference:start -->';
/** Marks where the generated reference ends in README.md. */
export const referenceEnd = '<!-- config-reference:end -->';

/** The README text with its reference block replaced, or undefined when it has no markers. */
export function replaceReferenceBlock(readme: string, reference: string): string | undefined {
  const start = readme.indexOf(referenceStart);
  const end = readme.indexOf(referenceEnd);
  if (start === -1 || end < start) return undefined;
  return `${readme.slice(0, start + referenceStart.length)}\n${reference}${readme.slice(end)}`;
}

function main(): number {
  const readmePath = fileURLToPath(new URL('../../README.md', import.meta.url));
  if (!existsSync(readmePath)) {
    process.stderr.write(`${readmePath}: not found\n`);
    return 1;
  }
  const updated = replaceReferenceBlock(readFileSync(readmePath, 'utf8'), renderConfigReference());
  if (updated === undefined) {
    process.stderr.write(`${readmePath}: no ${referenceStart} ... ${referenceEnd} block to fill\n`);
    return 1;
  }
  writeFileSync(readmePath, updated);
  process.stdout.write(`${readmePath}: configuration reference updated\n`);
  return 0;
}

// Run as a script, not when imported by the reference test.
if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main();
