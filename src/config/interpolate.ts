/**
 * `${VAR}` and `${VAR:-default}` in config values (SPEC §3). Substitution happens inside the scalar
 * nodes of the already-parsed document, so a variable can never inject YAML structure. Keys are never
 * interpolated: the shape of the config is what is written in the file.
 */
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node, Pair, Scalar } from 'yaml';
import type { ConfigPath, PathIssue } from './positions.ts';

/** Where variables are read from; `process.env` fits. */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

/** A value that was a whole `${...}` and became a number, boolean or null: the text it came from. */
export interface CoercedValue {
  path: ConfigPath;
  text: string;
}

/** What interpolation did to the document. */
export interface InterpolationResult {
  /** References that could not be substituted, at the scalar that holds them. */
  issues: PathIssue[];
  coerced: CoercedValue[];
}

// `$${` is the escape for a literal `${`; anything else starting with `${` must be a whole reference.
const reference = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const variableName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const wholeReference = /^\$\{[^}]*\}$/;
const unterminated = 'unterminated "${": close it with "}", or write "$${" for a literal "${"';

/**
 * Replaces every `${VAR}` / `${VAR:-default}` in the document's string scalars, in place. A scalar
 * that is exactly one reference is then read as a YAML scalar (`port: ${PORT}` is a number); if that
 * reading is not a plain number, boolean or null, the substituted text is kept as it is.
 */
export function interpolateDocument(doc: Document, env: ConfigEnv): InterpolationResult {
  const result: InterpolationResult = { issues: [], coerced: [] };
  visitScalars(doc.contents as Node | null, [], (scalar, path) => interpolateScalar(scalar, path, env, result));
  return result;
}

function interpolateScalar(scalar: Scalar, path: ConfigPath, env: ConfigEnv, result: InterpolationResult): void {
  const source = scalar.value;
  if (typeof source !== 'string' || !source.includes('$')) return;
  const problems: string[] = [];
  const text = source.replace(reference, (match: string, body: string | undefined) => {
    if (match === '$${') return '${';
    const substitution = body === undefined ? { problem: unterminated } : substitute(body, env);
    if ('problem' in substitution) problems.push(substitution.problem);
    return 'value' in substitution ? substitution.value : match;
  });
  // A scalar with a bad reference keeps its text; its issue already fails the load.
  if (problems.length > 0) {
    for (const message of problems) result.issues.push({ path, message });
    return;
  }
  const coerced = wholeReference.test(source) ? readScalar(text) : text;
  scalar.value = coerced;
  if (coerced !== text) result.coerced.push({ path, text });
}

/** The value of one `${...}` body, or why it has none. */
function substitute(body: string, env: ConfigEnv): { value: string } | { problem: string } {
  const separator = body.indexOf(':-');
  const name = separator === -1 ? body : body.slice(0, separator);
  if (!variableName.test(name)) {
    return { problem: `invalid variable reference "\${${body}}": expected \${NAME} or \${NAME:-default}` };
  }
  const value = env[name];
  // Like the shell's `:-`, the default also covers a variable that is set but empty.
  if (separator !== -1 && (value === undefined || value === '')) return { value: body.slice(separator + 2) };
  if (value === undefined) return { problem: `environment variable ${name} is not set (write \${${name}:-default} to give it a default)` };
  return { value };
}

/** Reads substituted text as a YAML scalar; only numbers, booleans and null replace the text. */
function readScalar(text: string): unknown {
  // An empty substitution (`${TOKEN:-}`) means "empty", not null.
  if (text.trim() === '') return text;
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !isScalar(doc.contents)) return text;
  const value = doc.contents.value;
  const isPlainValue = value === null || typeof value === 'number' || typeof value === 'boolean';
  return isPlainValue ? value : text;
}

function visitScalars(node: Node | null, path: ConfigPath, visit: (scalar: Scalar, path: ConfigPath) => void): void {
  if (isScalar(node)) visit(node, path);
  else if (isMap(node)) {
    for (const pair of node.items as Pair<unknown, unknown>[]) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      visitScalars(pair.value as Node | null, [...path, key], visit);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => visitScalars(item as Node | null, [...path, index], visit));
  }
  // Aliases are skipped: the node they point to is interpolated where it is anchored.
}
