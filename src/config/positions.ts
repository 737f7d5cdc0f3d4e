/**
 * Source positions of config keys (SPEC §3): every config error names the file, the 1-based line and
 * column and the key path. Positions come from the parsed YAML document, never from the parsed value.
 */
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node, Pair } from 'yaml';

/** A key path into the config: map keys and sequence indices, e.g. `['clusters', 'trade-east', 'endpoints', 0]`. */
export type ConfigPath = readonly (string | number)[];

/** What an issue points at: the value under a key (most issues), or the key itself (unknown keys). */
export type PositionTarget = 'value' | 'key';

/** A problem known by key path, before it is given a position in the file. */
export interface PathIssue {
  path: ConfigPath;
  message: string;
  /** Point at the key rather than its value (a key that must not be there). */
  target?: PositionTarget;
}

/** A 1-based line and column. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** What the walk down a path found: the deepest node reached, and the key it sits under, if any. */
interface Found {
  node: Node | null;
  key: Node | null;
  complete: boolean;
}

const documentStart: SourcePosition = { line: 1, column: 1 };

/** Renders a path the way SREs read it: `clusters.trade-east.endpoints[0]` (SPEC §3). */
export function renderPath(path: ConfigPath): string {
  let rendered = '';
  for (const segment of path) {
    if (typeof segment === 'number') rendered += `[${segment}]`;
    else if (/^[\w.-]+$/.test(segment)) rendered += rendered === '' ? segment : `.${segment}`;
    else rendered += `[${JSON.stringify(segment)}]`;
  }
  return rendered;
}

/**
 * Where `path` is written in the document. A value path points at the value; `target: 'key'` points at
 * the key itself; a path the document does not contain (a missing required key) points at the key of
 * its nearest existing parent, which is where the SRE has to add it.
 */
export function positionOf(
  doc: Document,
  lineCounter: LineCounter,
  path: ConfigPath,
  target: PositionTarget = 'value',
): SourcePosition {
  const found = walk(doc, path);
  const anchor = pickAnchor(found, target);
  const offset = anchor?.range?.[0];
  if (offset === undefined) return documentStart;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function pickAnchor(found: Found, target: PositionTarget): Node | null {
  if (!found.complete || target === 'key') return found.key ?? found.node;
  // An empty value (`region:`) has no text of its own: its key is what the SRE sees.
  if (found.node === null || isEmptyScalar(found.node)) return found.key ?? found.node;
  return found.node;
}

function isEmptyScalar(node: Node): boolean {
  return isScalar(node) && node.range !== undefined && node.range !== null && node.range[0] === node.range[1];
}

function walk(doc: Document, path: ConfigPath): Found {
  let found: Found = { node: doc.contents as Node | null, key: null, complete: true };
  for (const segment of path) {
    const next = step(doc, found.node, segment);
    if (next === undefined) return { ...found, complete: false };
    found = next;
  }
  return found;
}

/** One step down: a map entry by key, or a sequence item by index; undefined when it is not there. */
function step(doc: Document, parent: Node | null, segment: string | number): Found | undefined {
  const node = resolveAlias(doc, parent);
  if (isMap(node)) {
    const pair = (node.items as Pair<unknown, unknown>[]).find((item) => keyText(item.key) === String(segment));
    if (pair === undefined) return undefined;
    return { node: resolveAlias(doc, pair.value as Node | null), key: pair.key as Node, complete: true };
  }
  if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
    const item = resolveAlias(doc, node.items[segment] as Node | null);
    return { node: item, key: null, complete: true };
  }
  return undefined;
}

function resolveAlias(doc: Document, node: Node | null): Node | null {
  if (node !== null && isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? null;
  return node;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}
