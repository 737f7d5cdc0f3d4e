/**
 * Just enough of a Dockerfile and .dockerignore reader for the packaging tests: instructions grouped by
 * stage with build ARGs substituted, exec-form arrays decoded, and Docker's ignore-file matching.
 */

/** One instruction: `COPY --from=deps /app/node_modules ./node_modules` → keyword COPY, flags, args. */
export interface Instruction {
  readonly keyword: string;
  readonly flags: Readonly<Record<string, string>>;
  /** The text after the keyword and its flags, continuation lines joined. */
  readonly text: string;
  readonly line: number;
}

/** A build stage: its FROM and everything after it up to the next FROM. */
export interface Stage {
  readonly name: string | undefined;
  /** The base image with build ARGs substituted, or the name of an earlier stage. */
  readonly from: string;
  readonly instructions: readonly Instruction[];
}

/** Parses a Dockerfile into stages; ARGs declared before the first FROM are substituted into FROM lines. */
export function parseDockerfile(source: string): Stage[] {
  const globalArgs = new Map<string, string>();
  const stages: { name: string | undefined; from: string; instructions: Instruction[] }[] = [];
  for (const instruction of logicalLines(source)) {
    if (instruction.keyword === 'ARG' && stages.length === 0) {
      const [key, value = ''] = instruction.text.split('=', 2);
      globalArgs.set(key.trim(), value.trim());
    } else if (instruction.keyword === 'FROM') {
      const [image, as, name] = substitute(instruction.text, globalArgs).split(/\s+/);
      stages.push({ name: as?.toUpperCase() === 'AS' ? name : undefined, from: image, instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

/** The instructions of a stage with a given keyword. */
export function instructionsOf(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** An exec-form argument list (`["node", "dist/main.js"]`), or undefined for shell form. */
export function execForm(text: string): string[] | undefined {
  if (!text.trimStart().startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) && parsed.every((part) => typeof part === 'string') ? parsed : undefined;
}

/** `KEY=value KEY2="value 2"` (ENV, LABEL) as a map. */
export function keyValues(text: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const match of text.matchAll(/([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    pairs.set(match[1], match[2].startsWith('"') ? JSON.parse(match[2]) as string : match[2]);
  }
  return pairs;
}

/**
 * Whether .dockerignore keeps `path` (relative, `/`-separated) out of the build context. As Docker
 * does: the last matching pattern wins, `!` re-includes, and a pattern matching a parent directory
 * matches everything under it.
 */
export function isIgnored(dockerignore: string, path: string): boolean {
  const rules = dockerignore.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => ({ negated: l.startsWith('!'), pattern: patternRegExp(l.replace(/^!/, '')) }));
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.pattern.test(candidate))) ignored = !rule.negated;
  }
  return ignored;
}

function patternRegExp(pattern: string): RegExp {
  const cleaned = pattern.replace(/^\/+|\/+$/g, '');
  let source = '';
  for (let i = 0; i < cleaned.length; i++) {
    const c = cleaned[i];
    if (c === '*' && cleaned[i + 1] === '*') {
      // `**/` matches zero or more directories
      source += cleaned[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += cleaned[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function* logicalLines(source: string): Generator<Instruction> {
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let text = lines[i].trim();
    if (text === '' || text.startsWith('#')) continue;
    while (text.endsWith('\\') && i + 1 < lines.length) {
      i++;
      const next = lines[i].trim();
      text = text.slice(0, -1).trimEnd() + (next.startsWith('#') ? '' : ` ${next}`);
    }
    const keyword = text.split(/\s/, 1)[0].toUpperCase();
    let rest = text.slice(keyword.length).trim();
    const flags: Record<string, string> = {};
    for (let flag = /^--([\w-]+)(?:=(\S+))?\s*/.exec(rest); flag !== null; flag = /^--([\w-]+)(?:=(\S+))?\s*/.exec(rest)) {
      flags[flag[1]] = flag[2] ?? '';
      rest = rest.slice(flag[0].length);
    }
    yield { keyword, flags, text: rest, line: start + 1 };
  }
}

function substitute(text: string, args: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => args.get((braced ?? bare)!) ?? whole);
}
