/**
 * `switchyard start` (SPEC §8): load and validate the config, start, and on SIGTERM/SIGINT drain:
 * readiness 503 at once, keep serving for `readinessGraceMs`, close the traffic listener, let
 * in-flight requests finish within `drainTimeoutMs`, exit 0. SIGHUP reloads the config.
 */
import { loadConfigFile } from '../config/load.ts';
import { formatConfigIssue } from '../errors.ts';
import { buildRuntimeConfig } from '../config/runtime.ts';
import { createLogger } from '../log/logger.ts';
import { Switchyard } from '../server.ts';

/** Runs the gateway until a signal stops it; returns -1 (the process stays alive). */
export async function runStart(configPath: string): Promise<number> {
  const loaded = await loadConfigFile(configPath);
  if (!loaded.ok) {
    for (const issue of loaded.issues) process.stderr.write(`${formatConfigIssue(issue)}\n`);
    process.stderr.write(`switchyard: ${loaded.issues.length} config error(s); not starting\n`);
    return 1;
  }
  const logger = createLogger({ level: loaded.config.log.level });
  const switchyard = await Switchyard.create(buildRuntimeConfig(loaded.config, loaded.file), {
    logger, instanceId: process.env.SWITCHYARD_INSTANCE_ID || undefined,
  });
  await switchyard.start();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void drainAndExit(switchyard, signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => void switchyard.reload());
  return -1;
}

async function drainAndExit(switchyard: Switchyard, signal: string): Promise<void> {
  const { readinessGraceMs, drainTimeoutMs } = switchyard.runtime.config.shutdown;
  switchyard.ready = false;
  switchyard.logger.info({ signal, readinessGraceMs, drainTimeoutMs }, 'shutdown: readiness 503, still serving');
  await new Promise((resolve) => setTimeout(resolve, readinessGraceMs));
  const forced = setTimeout(() => {
    switchyard.logger.warn({ inflight: switchyard.gateway.inflight }, 'shutdown: drain timeout, closing remaining connections');
    switchyard.traffic.server.closeAllConnections();
  }, drainTimeoutMs);
  forced.unref();
  await switchyard.close();
  clearTimeout(forced);
  switchyard.logger.info('shutdown complete');
  switchyard.logger.flush();
  process.exit(0);
}
