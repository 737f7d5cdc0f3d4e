#!/usr/bin/env node
/**
 * Command line (SPEC §8): `switchyard start | validate | explain [-c FILE]`. Argument parsing only;
 * each command lives in src/cli/.
 */
import { parseArgs } from 'node:util';
import { disableAllocationSitePretenuring } from './pretenuring.ts';

// Before any of the gateway's modules load (they are imported on demand below): see pretenuring.ts.
disableAllocationSitePretenuring();

const usage = `usage: switchyard <command> [options]

commands:
  start     [-c FILE]                                   run the gateway
  validate  [-c FILE]                                   check a config file; exit 0 or 1
  explain   [-c FILE] --ip IP [--method M] [--path P] [--host H]
                                                        print the routing decision as JSON

options:
  -c, --config FILE   config file (default: $SWITCHYARD_CONFIG or config/switchyard.yaml)
  -h, --help          this text
`;

/** Where the config comes from: -c, then SWITCHYARD_CONFIG, then the default path (SPEC §3). */
export function configPathFrom(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? (env.SWITCHYARD_CONFIG || 'config/switchyard.yaml');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(usage);
    return command === undefined ? 2 : 0;
  }
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      ip: { type: 'string' },
      method: { type: 'string' },
      path: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const configPath = configPathFrom(values.config, process.env);
  switch (command) {
    case 'start': {
      const { runStart } = await import('./cli/start.ts');
      return runStart(configPath);
    }
    case 'validate': {
      const { runValidate } = await import('./cli/validate.ts');
      return runValidate(configPath);
    }
    case 'explain': {
      const { runExplain } = await import('./cli/explain.ts');
      return runExplain(configPath, { ip: values.ip, method: values.method, path: values.path, host: values.host });
    }
    default:
      process.stderr.write(`switchyard: unknown command "${command}"\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // start keeps the process alive itself; the others exit with their code
    if (code !== -1) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`switchyard: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
  },
);
