/**
 * Lays out the runtime stage of the Dockerfile in a temporary directory, as the image would hold it,
 * so its ENTRYPOINT + CMD can run outside a container (there is no container engine in CI). The root
 * of the image becomes `root`; absolute paths in WORKDIR and ENV are moved under it.
 */
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execForm, instructionsOf, keyValues, type Stage } from './dockerfile.ts';
import { repoRoot } from './processes.ts';

/** What running the image needs: where, what, and with which environment. */
export interface ImageRun {
  readonly workdir: string;
  readonly command: string;
  readonly args: string[];
  readonly env: Record<string, string>;
}

/**
 * Copies what the runtime stage's COPY lines name into `root`: files from the build context come from
 * the repository, the build stage's dist/ is `builtDist`, and the deps stage's node_modules is the
 * repository's (a symlink: the tests only need it resolvable, and it is never written).
 */
export function layOutImage(stages: readonly Stage[], root: string, builtDist: string): ImageRun {
  const runtime = stages.at(-1)!;
  const workdirPath = instructionsOf(runtime, 'WORKDIR').at(-1)?.text ?? '/';
  const workdir = join(root, workdirPath);
  mkdirSync(workdir, { recursive: true });
  for (const copy of instructionsOf(runtime, 'COPY')) {
    const parts = copy.text.split(/\s+/);
    const destination = parts.pop()!;
    for (const source of parts) {
      const target = destination.endsWith('/') || destination === '.' ? join(workdir, destination, basename(source)) : join(workdir, destination);
      const from = copy.flags.from;
      if (from === undefined) cpSync(join(repoRoot, source), target, { recursive: true });
      else copyFromStage(stages, from, source, target, builtDist);
    }
  }
  const entrypoint = execForm(instructionsOf(runtime, 'ENTRYPOINT').at(-1)!.text)!;
  const cmd = execForm(instructionsOf(runtime, 'CMD').at(-1)?.text ?? '[]') ?? [];
  const [program, ...rest] = [...entrypoint, ...cmd];
  const env: Record<string, string> = {};
  for (const instruction of instructionsOf(runtime, 'ENV')) {
    for (const [key, value] of keyValues(instruction.text)) env[key] = value.startsWith('/') ? join(root, value) : value;
  }
  // `node` on the image's PATH is Node 24; here it is the Node running the tests.
  return { workdir, command: program === 'node' ? process.execPath : program, args: rest, env };
}

function copyFromStage(stages: readonly Stage[], from: string, source: string, target: string, builtDist: string): void {
  const stage = stages.find((s) => s.name === from);
  if (stage === undefined) throw new Error(`COPY --from=${from}: no such stage`);
  if (source.endsWith('/dist')) cpSync(builtDist, target, { recursive: true });
  else if (source.endsWith('/node_modules')) symlinkSync(join(repoRoot, 'node_modules'), target);
  else throw new Error(`COPY --from=${from} ${source}: the test does not know how to produce it`);
}
