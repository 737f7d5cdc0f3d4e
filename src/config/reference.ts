/**
 * The configuration reference (SPEC §3), generated from the one schema so the README cannot drift from
 * what the loader accepts: every key with its type, default and description.
 */
import { configSchema } from './schema.ts';

/** The parts of a zod 4 schema definition the reference reads. */
interface SchemaNode {
  readonly description?: string;
  readonly def: {
    readonly type: string;
    readonly innerType?: SchemaNode;
    readonly defaultValue?: unknown;
    readonly shape?: Record<string, SchemaNode>;
    readonly valueType?: SchemaNode;
    readonly element?: SchemaNode;
    readonly items?: readonly SchemaNode[];
    readonly entries?: Record<string, string>;
    readonly format?: string;
    readonly checks?: readonly { _zod: { def: Check } }[];
  };
}

interface Check {
  readonly check: string;
  readonly value?: number;
  readonly inclusive?: boolean;
  readonly format?: string;
  readonly prefix?: string;
  readonly minimum?: number;
  readonly maximum?: number;
}

/** A schema with its wrappers (optional, default, prefault) peeled off, and what they said. */
interface Unwrapped {
  readonly node: SchemaNode;
  readonly description: string;
  readonly presence: 'required' | 'optional' | { readonly value: unknown };
}

/** A row of the reference table. */
interface Row {
  readonly key: string;
  readonly type: string;
  readonly default: string;
  readonly description: string;
}

/** Markdown table of every config key: dotted path (`<name>` for map keys, `[]` for lists), type, default, description. */
export function renderConfigReference(): string {
  const rows: Row[] = [];
  const root = configSchema as unknown as SchemaNode;
  for (const [key, child] of Object.entries(root.def.shape ?? {})) collectRows(child, key, rows);
  const lines = ['| key | type | default | description |', '| --- | --- | --- | --- |'];
  for (const row of rows) lines.push(`| \`${row.key}\` | ${cell(row.type)} | ${row.default} | ${cell(row.description)} |`);
  return `${lines.join('\n')}\n`;
}

function collectRows(schema: SchemaNode, key: string, rows: Row[]): void {
  const { node, description, presence } = unwrap(schema);
  rows.push({ key, type: typeName(node), default: renderDefault(node, presence), description });
  const def = node.def;
  // Entries of maps and lists are described by their own keys; a map or list of scalars is one row.
  const entry = def.valueType ?? def.element;
  const entryShape = entry === undefined ? undefined : unwrap(entry).node.def.shape;
  if (def.type === 'object') collectChildren(def.shape, key, rows);
  else if (entryShape !== undefined) collectChildren(entryShape, def.type === 'record' ? `${key}.<name>` : `${key}[]`, rows);
}

function collectChildren(shape: Record<string, SchemaNode> | undefined, prefix: string, rows: Row[]): void {
  for (const [child, value] of Object.entries(shape ?? {})) collectRows(value, `${prefix}.${child}`, rows);
}

function unwrap(schema: SchemaNode): Unwrapped {
  let node = schema;
  let description = schema.description;
  let presence: Unwrapped['presence'] = 'required';
  while (node.def.innerType !== undefined) {
    if (node.def.type === 'optional' && presence === 'required') presence = 'optional';
    // A prefault ({}) only means "the block may be left out": its keys carry the defaults.
    if (node.def.type === 'prefault') presence = 'optional';
    if (node.def.type === 'default') presence = { value: node.def.defaultValue };
    node = node.def.innerType;
    description ??= node.description;
  }
  return { node, description: description ?? '', presence };
}

function typeName(node: SchemaNode): string {
  const def = node.def;
  switch (def.type) {
    case 'object': return 'map';
    case 'record': return `map of name → ${typeName(unwrap(def.valueType!).node)}`;
    case 'array': return listType(def);
    case 'tuple': return `[${(def.items ?? []).map((item) => typeName(unwrap(item).node)).join(', ')}]`;
    case 'enum': return Object.values(def.entries ?? {}).join(' | ');
    case 'number': return numberType(def.checks ?? []);
    case 'string': return stringType(def);
    default: return def.type;
  }
}

function numberType(checks: readonly { _zod: { def: Check } }[]): string {
  let name = 'number';
  let min: Check | undefined;
  let max: Check | undefined;
  for (const { _zod: { def: check } } of checks) {
    if (check.check === 'number_format') name = 'integer';
    if (check.check === 'greater_than') min = check;
    if (check.check === 'less_than') max = check;
  }
  if (min?.inclusive && max?.inclusive) return `${name} ${min.value}–${max.value}`;
  const bounds = [min && `${min.inclusive ? '≥' : '>'} ${min.value}`, max && `${max.inclusive ? '≤' : '<'} ${max.value}`];
  return [name, ...bounds.filter((bound) => bound !== undefined)].join(' ');
}

function stringType(def: SchemaNode['def']): string {
  if (def.format === 'datetime') return 'RFC 3339 date-time';
  const prefix = def.checks?.find(({ _zod: { def: check } }) => check.format === 'starts_with')?._zod.def.prefix;
  return prefix === undefined ? 'string' : `string starting with ${prefix}`;
}

function listType(def: SchemaNode['def']): string {
  const element = typeName(unwrap(def.element!).node);
  const min = def.checks?.find(({ _zod: { def: check } }) => check.check === 'min_length')?._zod.def.minimum;
  const max = def.checks?.find(({ _zod: { def: check } }) => check.check === 'max_length')?._zod.def.maximum;
  const count = min !== undefined && max !== undefined ? `${min}–${max}` : min !== undefined ? `at least ${min}` : max !== undefined ? `at most ${max}` : '';
  return count === '' ? `list of ${element}` : `list of ${element} (${count})`;
}

function renderDefault(node: SchemaNode, presence: Unwrapped['presence']): string {
  if (presence === 'required') return 'required';
  if (presence === 'optional') return '';
  const value = presence.value;
  // An empty object default only says the block may be left out.
  if (node.def.type === 'object') return '';
  return typeof value === 'string' && value !== '' ? `\`${value}\`` : `\`${JSON.stringify(value)}\``;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
