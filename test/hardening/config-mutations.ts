/**
 * Seeded random mutations of a YAML config, for fuzzing the loader: lines deleted, duplicated, swapped
 * and re-indented, keys renamed, values retyped, garbage inserted, the text truncated, and structural
 * edits through the YAML document. Deterministic for a seed, so a failure is reproducible.
 */
import { isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';

/** mulberry32: tiny, fast, good enough to pick mutations; same seed, same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let r = Math.imul(state ^ (state >>> 15), 1 | state);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values that are the wrong type, out of range, or YAML features a config should not need. */
const nastyValues = [
  '', '~', 'null', '[]', '{}', '[1, [2, [3]]]', '{a: {b: {c: 1}}}', '-1', '0', '1e999', '-0.0', '.nan', '0x1F', '0o17',
  'true', 'no', '"quoted"', "'single'", '|\n  block', '>-\n  folded', '!!binary aGk=', '!!str 5', '!custom x', '*missing',
  '&anchor 1', '${UNSET_VARIABLE}', '${X:-[1, 2]}', '${X:-}', '"${PORT}"', 'http://user:pw@host/path?q', '2026-13-45T99:99:99Z',
  'x'.repeat(300), '9'.repeat(400), '"\\u0000\\x01"', '\u202e\ufeff', 'a: b: c', '- - -', '{ unclosed', '[unclosed', '"unterminated',
];

/** Whole lines of garbage. */
const nastyLines = [
  '\t\ttabs: indented', '::::', '? complex key', '%YAML 1.1', '---', '...', '- orphan', '<<: *nothing', 'key with spaces: 1',
  '"quoted key": 2', '\u0000\u0001\u0002', '   ', '# comment only', 'routes:', 'clusters: {}', 'limits: { maxInflight: 0 }',
  '&a [*a]', 'x: &r [*r]', '{{{{{{{{{{', ']]]]', 'a'.repeat(2000),
];

type Mutation = (lines: string[], random: () => number) => string[];

const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)];
const index = (lines: readonly string[], random: () => number) => Math.floor(random() * Math.max(1, lines.length));

const lineMutations: readonly Mutation[] = [
  (lines, r) => lines.toSpliced(index(lines, r), 1),
  (lines, r) => { const i = index(lines, r); return lines.toSpliced(i, 0, lines[i] ?? ''); },
  (lines, r) => { const i = index(lines, r), j = index(lines, r); const out = [...lines]; [out[i], out[j]] = [out[j], out[i]]; return out; },
  (lines, r) => lines.toSpliced(index(lines, r), 0, pick(nastyLines, r)),
  (lines, r) => { const i = index(lines, r); return lines.with(i, r() < 0.5 ? `  ${lines[i]}` : (lines[i] ?? '').replace(/^ {1,2}/, '')); },
  (lines, r) => { const i = index(lines, r); return lines.with(i, (lines[i] ?? '').replace(/:\s.*$/, `: ${pick(nastyValues, r)}`)); },
  (lines, r) => { const i = index(lines, r); return lines.with(i, (lines[i] ?? '').replace(/^(\s*-?\s*)([\w.-]+):/, `$1$2${pick(['x', 'X', '_', ' ', '-'], r)}:`)); },
  (lines, r) => { const i = index(lines, r); const at = Math.floor(r() * (lines[i]?.length ?? 0)); return lines.with(i, `${(lines[i] ?? '').slice(0, at)}${String.fromCharCode(Math.floor(r() * 128))}${(lines[i] ?? '').slice(at)}`); },
  (lines, r) => { const i = index(lines, r); return lines.toSpliced(i, 0, ...lines.slice(i, i + 1 + Math.floor(r() * 8))); },
];

/** Retypes, deletes or replaces one node of the parsed document, then prints it again. */
function structuralMutation(text: string, random: () => number): string {
  const doc = parseDocument(text);
  const paths: unknown[][] = [];
  const walk = (node: unknown, path: unknown[]) => {
    if (isMap(node)) for (const pair of node.items) if (isPair(pair) && isScalar(pair.key)) {
      paths.push([...path, pair.key.value]);
      walk(pair.value, [...path, pair.key.value]);
    }
    if (isSeq(node)) node.items.forEach((item, i) => { paths.push([...path, i]); walk(item, [...path, i]); });
  };
  walk(doc.contents, []);
  if (paths.length === 0) return text;
  const path = pick(paths, random);
  const replacements: unknown[] = [null, 0, -5, 1e12, 'text', true, [], {}, [1, 'two'], { unknown: 1 }, 'x'.repeat(100)];
  if (random() < 0.3) doc.deleteIn(path);
  else doc.setIn(path, pick(replacements, random));
  return doc.toString();
}

/** One mutated text: 1-4 mutations; sometimes structural, sometimes truncated at a random character. */
export function mutateConfig(text: string, random: () => number): string {
  let current = random() < 0.25 ? structuralMutation(text, random) : text;
  let lines = current.split('\n');
  const count = 1 + Math.floor(random() * 4);
  for (let i = 0; i < count; i++) {
    if (lines.length === 0) lines = [''];
    lines = pick(lineMutations, random)(lines, random);
  }
  current = lines.join('\n');
  if (random() < 0.15) current = current.slice(0, Math.floor(random() * current.length));
  return current;
}
