/**
 * `switchyard start` with `workers > 1`: this process becomes the supervisor (node:cluster primary).
 * It owns the admin listener, the config (SIGHUP, file watch, API reload) and the signals; workers
 * serve traffic. SIGTERM/SIGINT: readiness 503 at once, every worker drains as a single process would
 * (grace, close, in-flight requests), the admin listener answers until they are gone, exit 0.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log/logger.ts';
import { closeServerGracefully } from '../server-lifecycle.ts';
import { exitAfterFlush } from '../cli/start.ts';
import { buildSupervisorAdminApp } from './admin-relay.ts';
import type { WorkerChannel } from './channel.ts';
import { ExitedWorkerCounters } from './exited-worker-counters.ts';
import { FleetControlLog, noFleetControls } from './fleet-controls.ts';
import { scrapeWorkers } from './metrics-scrape.ts';
import { relayTimeoutMs } from './relay.ts';
import { SupervisedConfig, type ConfigInForce } from './supervised-config.ts';
import { Supervisor } from './supervisor.ts';
import { SupervisorMetrics } from './supervisor-metrics.ts';

/** What a worker's shutdown may take past grace and drain before the supervisor kills it (the worker gives up after 5 s itself). */
const workerCleanupGraceMs = 7000;
/** How long the admin listener's last requests get once every worker is gone. */
const adminCloseMs = 1000;

/** Runs the supervisor until a signal stops it; returns -1 (the process stays alive) or an exit code. */
export async function runSupervisor(loaded: { config: Config; file: string }, logger: Logger): Promise<number> {
  const instanceBase = process.env.SWITCHYARD_INSTANCE_ID || `${hostname()}-${randomBytes(3).toString('hex')}`;
  const controls = new FleetControlLog();
  const exited = new ExitedWorkerCounters();
  let accepting = true;
  const supervisor: Supervisor = new Supervisor({
    workers: loaded.config.workers, logger,
    startMessage: (slot) => {
      const { config, file } = supervised.current;
      // With Redis, drains and dials live there; another gateway may have changed them since.
      const restore = config.state.redis === '' ? controls.current(Date.now()) : noFleetControls;
      return { type: 'switchyard:start', config, file, instanceId: `${instanceBase}-${slot}`, controls: restore };
    },
    onRestart: () => metrics.restarted(),
    onExit: (pid) => { if (pid !== undefined) exited.exited(pid); },
    onReady: (worker, version) => {
      // A reload between this worker's start message and its readiness: it gets the config in force now.
      if (version !== supervised.current.version) pushConfig([worker], supervised.current).catch((err: Error) => logger.error({ worker: worker.slot, err: { message: err.message } }, 'config: a restarted worker did not apply the config in force'));
    },
  });
  const metrics = new SupervisorMetrics(() => supervisor.stateCounts());
  const supervised = new SupervisedConfig({
    config: loaded.config, file: loaded.file, logger,
    push: (inForce) => pushConfig(supervisor.servingWorkers(), inForce), reloaded: (outcome) => metrics.reloaded(outcome),
  });
  const admin = buildSupervisorAdminApp({
    logger, adminToken: () => supervised.current.config.admin.token, version: () => supervised.current.version,
    accepting: () => accepting, allWorkersReady: () => supervisor.allReady(), workerStates: () => supervisor.stateCounts(),
    servingWorkers: () => supervisor.servingWorkers(), scrape: () => scrapeWorkers(supervisor.servingWorkers(), exited, metrics, logger),
    metricsContentType: metrics.contentType, reload: () => supervised.reload(), controls,
  });
  process.on('SIGHUP', () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading the config');
    supervised.reload().catch(() => {});
  });
  const stop = async (signal: string, exitCode: number) => {
    accepting = false;
    supervised.close();
    const { readinessGraceMs, drainTimeoutMs } = supervised.current.config.shutdown;
    logger.info({ signal, readinessGraceMs, drainTimeoutMs }, 'shutdown: readiness 503, workers draining');
    const clean = await supervisor.stop(signal, readinessGraceMs + drainTimeoutMs + workerCleanupGraceMs);
    await closeServerGracefully(admin.server, adminCloseMs);
    await admin.close();
    logger.info({ clean }, 'shutdown complete');
    return exitAfterFlush(logger, clean ? exitCode : 1);
  };
  try {
    const { host, port } = supervised.current.config.admin;
    await admin.listen({ host, port });
    await supervised.start();
    await supervisor.start();
  } catch (err) {
    logger.fatal({ err: { message: (err as Error).message } }, 'switchyard could not start');
    return stop('startup failure', 1);
  }
  logger.info({ workers: loaded.config.workers, adminPort: (admin.server.address() as AddressInfo).port, version: supervised.current.version }, 'switchyard started');
  const onSignal = (signal: NodeJS.Signals) => {
    if (!accepting) return logger.info({ signal }, 'shutdown already in progress');
    void stop(signal, 0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return -1;
}

/** Sends a validated config to workers; rejects naming those that did not apply it. */
async function pushConfig(workers: readonly WorkerChannel[], inForce: ConfigInForce): Promise<void> {
  const outcomes = await Promise.allSettled(workers.map((worker) => worker.request('switchyard:apply-config', { config: inForce.config, file: inForce.file }, relayTimeoutMs)));
  const failed = outcomes.flatMap((outcome, i) => {
    if (outcome.status === 'rejected') return [`worker ${workers[i].slot}: ${(outcome.reason as Error).message}`];
    return outcome.value.version === inForce.version ? [] : [`worker ${workers[i].slot} runs version ${outcome.value.version}`];
  });
  if (failed.length > 0) throw new Error(`config ${inForce.version} not applied: ${failed.join('; ')}`);
}
