/**
 * A gateway instance as a child process, so tests can crash it for real (SIGKILL: no lease released,
 * no connection closed cleanly). argv[2] is JSON `{config, instanceId, tuning}`; prints `port N` once
 * listening and one JSON line per log line; SIGTERM closes it cleanly.
 */
import { startInstance } from './instance.ts';

const { config, instanceId, tuning } = JSON.parse(process.argv[2]);
const instance = await startInstance(config, { instanceId, tuning, echo: (line) => process.stdout.write(`${JSON.stringify(line)}\n`) });
process.stdout.write(`port ${new URL(instance.url).port}\n`);
process.once('SIGTERM', () => {
  void instance.close().then(() => process.exit(0));
});
