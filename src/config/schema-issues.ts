/**
 * Schema problems in the words of the config file (SPEC §3): zod's issues turned into short messages
 * about keys ("is required", "unknown key "porrt" (did you mean port?)"). Values are never echoed, since
 * a value may be a secret.
 */
import type { core } from 'zod';
import { configSchema } from './schema.ts';
import type { ConfigPath, PathIssue } from './positions.ts';

/** The slice of a zod schema definition that is walked to find an object's allowed keys. */
interface Walkable {
  def: { type: string; innerType?: Walkable; shape?: Record<string, Walkable>; valueType?: Walkable; element?: Walkable; items?: Walkable[] };
}

const typeNames: Record<string, string> = {
  object: 'a map', record: 'a map', array: 'a list', tuple: 'a list', string: 'a string', number: 'a number',
  int: 'an integer', boolean: 'true or false',
};

/** Turns one zod issue into config issues; `data` is the parsed YAML, used to tell missing from wrong. */
export function describeSchemaIssue(issue: core.$ZodIssue, data: unknown): PathIssue[] {
  const path = issue.path.filter((segment) => typeof segment !== 'symbol');
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...path, key], message: unknownKey(path, key), target: 'key' }));
    case 'invalid_key':
      return [{ path, message: `invalid key: ${issue.issues[0]?.message ?? issue.message}`, target: 'key' }];
    case 'invalid_type':
      return [{ path, message: invalidType(issue.expected, valueAt(data, path)) }];
    default:
      return [{ path, message: describeOther(issue) }];
  }
}

function invalidType(expected: string, value: unknown): string {
  if (value === undefined) return 'is required';
  const wanted = typeNames[expected] ?? expected;
  return `must be ${wanted}, not ${describeValueType(value)}`;
}

function describeOther(issue: core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return bound(issue.origin, issue.inclusive ? '>=' : '>', issue.minimum, 'at least');
    case 'too_big':
      return bound(issue.origin, issue.inclusive ? '<=' : '<', issue.maximum, 'at most');
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'starts_with') return `must start with "${(issue as { prefix?: string }).prefix}"`;
      if (issue.format === 'datetime') return 'must be an RFC 3339 date-time with an offset, such as 2026-11-10T16:00:00Z';
      return issue.message;
    default:
      return issue.message;
  }
}

function bound(origin: string, comparison: string, limit: number | bigint, words: string): string {
  if (origin === 'array' || origin === 'set') return `must have ${words} ${limit} item${limit === 1 ? '' : 's'}`;
  if (origin === 'string') return `must be ${words} ${limit} character${limit === 1 ? '' : 's'} long`;
  return `must be ${comparison} ${limit}`;
}

function describeValueType(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'a fraction';
  return `a ${typeof value}`;
}

function valueAt(data: unknown, path: ConfigPath): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

function unknownKey(objectPath: ConfigPath, key: string): string {
  const suggestion = closest(key, allowedKeys(objectPath));
  return `unknown key "${key}"${suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`}`;
}

/** The keys the schema allows in the object at `path`. */
function allowedKeys(path: ConfigPath): string[] {
  let schema: Walkable | undefined = unwrap(configSchema as unknown as Walkable);
  for (const segment of path) {
    if (schema === undefined) return [];
    const def: Walkable['def'] = schema.def;
    const next = def.shape?.[segment] ?? def.valueType ?? def.element ?? def.items?.[Number(segment)];
    schema = next === undefined ? undefined : unwrap(next);
  }
  return Object.keys(schema?.def.shape ?? {});
}

function unwrap(schema: Walkable): Walkable {
  let current = schema;
  while (current.def.innerType !== undefined) current = current.def.innerType;
  return current;
}

/** The allowed key nearest to a typo, if it is near enough to be what was meant. */
function closest(key: string, candidates: readonly string[]): string | undefined {
  // Short keys are close to everything; longer ones may be off by a plural or a few letters.
  const tolerance = key.length <= 3 ? 1 : Math.max(2, Math.ceil(key.length / 3));
  let best: string | undefined;
  let bestDistance = tolerance + 1;
  for (const candidate of candidates) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
