/**
 * The schema step of loading (SPEC §3): the interpolated document becomes a typed config with its
 * defaults applied, or a list of schema problems by key path.
 */
import type { Document } from 'yaml';
import type { core } from 'zod';
import { configSchema } from './schema.ts';
import type { Config } from './schema.ts';
import type { CoercedValue } from './interpolate.ts';
import { renderPath } from './positions.ts';
import type { ConfigPath, PathIssue } from './positions.ts';
import { describeSchemaIssue } from './schema-issues.ts';

/** What the schema made of a document. */
export interface SchemaOutcome {
  /** The config, defaults applied; also present when unknown keys were the only problem, so its references can be checked. */
  config?: Config;
  issues: PathIssue[];
}

// yaml's own guard against alias bombs ("billion laughs"), stated here so it is not left implicit.
const maxAliasCount = 100;

/**
 * Applies the schema to the document. A whole `${VAR}` that read as a number, boolean or null where
 * the schema wants a string (an all-digit token, say) gets its text back, so coercion never turns a
 * valid secret into an error.
 */
export function applySchema(doc: Document, coerced: readonly CoercedValue[]): SchemaOutcome {
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount });
  } catch (err) {
    return { issues: [{ path: [], message: err instanceof Error ? err.message : String(err) }] };
  }
  let result = configSchema.safeParse(data);
  const wantsText = result.success ? [] : coerced.filter((value) => expectsString(result.error!.issues, value.path));
  if (wantsText.length > 0) {
    for (const value of wantsText) setAt(data, value.path, value.text);
    result = configSchema.safeParse(data);
  }
  if (result.success) return { config: result.data, issues: [] };
  const issues = result.error.issues.flatMap((issue) => describeSchemaIssue(issue, data));
  return { config: withoutUnknownKeys(data, result.error.issues), issues };
}

/**
 * Unknown keys mean nothing to the gateway, so when they are the only problem, the config without
 * them is what the file means; checking its references too reports every problem in one run.
 */
function withoutUnknownKeys(data: unknown, issues: readonly core.$ZodIssue[]): Config | undefined {
  if (!issues.every((issue) => issue.code === 'unrecognized_keys')) return undefined;
  for (const issue of issues) {
    const owner = valueAt(data, pathOf(issue)) as Record<string, unknown>;
    for (const key of issue.keys) delete owner[key];
  }
  const retry = configSchema.safeParse(data);
  return retry.success ? retry.data : undefined;
}

function expectsString(issues: readonly core.$ZodIssue[], path: ConfigPath): boolean {
  const key = renderPath(path);
  return issues.some((issue) => issue.code === 'invalid_type' && issue.expected === 'string' && renderPath(pathOf(issue)) === key);
}

function pathOf(issue: core.$ZodIssue): ConfigPath {
  return issue.path.filter((segment) => typeof segment !== 'symbol');
}

function valueAt(data: unknown, path: ConfigPath): unknown {
  let value = data;
  for (const segment of path) value = (value as Record<string | number, unknown>)[segment];
  return value;
}

function setAt(data: unknown, path: ConfigPath, value: unknown): void {
  const parent = valueAt(data, path.slice(0, -1)) as Record<string | number, unknown>;
  parent[path[path.length - 1]] = value;
}
