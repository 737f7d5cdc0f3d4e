/**
 * Loads a config file (SPEC §3): YAML with positions, `${VAR}` interpolation, the schema, then the
 * cross-reference checks. Every problem is reported at once as a positioned issue; a config that passes
 * comes back deep-frozen, because a reload swaps it while requests may still be reading the old one.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { Document, YAMLError } from 'yaml';
import type { ConfigIssue } from '../errors.ts';
import type { Config } from './schema.ts';
import { applySchema } from './apply-schema.ts';
import { interpolateDocument } from './interpolate.ts';
import type { ConfigEnv } from './interpolate.ts';
import { positionOf, renderPath } from './positions.ts';
import type { PathIssue } from './positions.ts';
import { checkCrossReferences } from './validate.ts';

/** A loaded config, or every reason it was refused. */
export type LoadResult = { ok: true; config: Config; file: string } | { ok: false; issues: ConfigIssue[] };

const unquotedReference = /(^|[\s:,[{])\$\{/;

/** Reads and loads the config file at `file`; an unreadable file is one issue at 1:1. */
export async function loadConfigFile(file: string, env: ConfigEnv = process.env): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return failure([{ file, line: 1, column: 1, path: '', message: `cannot read the config file: ${describeReadError(err)}` }]);
  }
  return loadConfigText(text, file, env);
}

/** Loads config text; `file` is only used to name where issues are. */
export function loadConfigText(text: string, file: string, env: ConfigEnv): LoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntax = syntaxIssues(doc, text, file, lineCounter);
  if (syntax.length > 0) return failure(syntax);
  if (doc.contents === null) {
    return failure([{ file, line: 1, column: 1, path: '', message: 'the file is empty; a config needs at least regions, clusters and routes' }]);
  }
  const { config, issues } = checkDocument(doc, env);
  if (config === undefined || issues.length > 0) {
    return failure(issues.map((issue) => ({
      file, ...positionOf(doc, lineCounter, issue.path, issue.target), path: renderPath(issue.path), message: issue.message,
    })));
  }
  return { ok: true, config: deepFreeze(config), file };
}

/** Interpolation, the schema, then cross-references: every problem of a well-formed document, by key path. */
function checkDocument(doc: Document, env: ConfigEnv): { config?: Config; issues: PathIssue[] } {
  const interpolation = interpolateDocument(doc, env);
  const schema = applySchema(doc, interpolation.coerced);
  const crossReferences = schema.config === undefined ? [] : checkCrossReferences(schema.config);
  // A value whose variable could not be substituted already has its issue; a second one about it is noise.
  const unsubstituted = new Set(interpolation.issues.map((issue) => renderPath(issue.path)));
  const valueIssues = [...schema.issues, ...crossReferences].filter((issue) => !unsubstituted.has(renderPath(issue.path)));
  return { config: schema.config, issues: [...interpolation.issues, ...valueIssues] };
}

/**
 * YAML errors and warnings. After a structural error yaml reports every later token as unexpected,
 * so only the first one is kept; duplicate keys and unknown tags stand on their own and are all kept.
 */
function syntaxIssues(doc: Document, text: string, file: string, lineCounter: LineCounter): ConfigIssue[] {
  const independent = new Set(['DUPLICATE_KEY', 'TAG_RESOLVE_FAILED']);
  const errors = [...doc.errors, ...doc.warnings];
  const firstStructural = errors.find((error) => !independent.has(error.code));
  return errors
    .filter((error) => independent.has(error.code) || error === firstStructural)
    .map((error) => syntaxIssue(error, text, file, lineCounter));
}

function syntaxIssue(error: YAMLError, text: string, file: string, lineCounter: LineCounter): ConfigIssue {
  const { line, col } = lineCounter.linePos(error.pos[0]);
  if (error.code === 'DUPLICATE_KEY') return { file, line, column: col, path: '', message: 'duplicate key (map keys must be unique)' };
  // The usual cause: `{ port: ${PORT} }`, where `{` and `}` end the plain value early.
  const lineText = text.split(/\r?\n/)[line - 1] ?? '';
  const hint = unquotedReference.test(lineText) ? '; a ${...} value inside { } or [ ] must be quoted: "${VAR}"' : '';
  return { file, line, column: col, path: '', message: `${lowerFirst(error.message)}${hint}` };
}

function describeReadError(err: unknown): string {
  const code = (err as { code?: string } | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return err instanceof Error ? err.message : String(err);
}

function failure(issues: ConfigIssue[]): LoadResult {
  const sorted = [...issues].sort((a, b) => a.line - b.line || a.column - b.column || a.path.localeCompare(b.path));
  return { ok: false, issues: sorted };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** Freezes a value and everything reachable from it. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
