/**
 * A worker process of `switchyard start` with `workers > 1`: the normal gateway (traffic listener, its
 * own state loops as its own fleet instance, geo, breakers) on the shared traffic port, without the
 * admin listener and without watching the config file; both belong to the supervisor, which sends it
 * its config, relays admin requests, collects its metrics and tells it when to reload and to stop.
 */
import { buildRuntimeConfig } from '../config/runtime.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { Switchyard } from '../server.ts';
import { drain, exitAfterFlush, exitOnCrash, watchShutdown } from '../cli/start.ts';
import { restoreFleetControls } from './fleet-controls.ts';
import { isSwitchyardMessage, type FromWorker, type StartMessage, type ToWorker, type WorkerRequest } from './protocol.ts';
import { answerRequest } from './worker-requests.ts';

/** Signals a terminal or a service manager sends to the whole process group: the supervisor acts on them. */
const groupSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** This process as a worker: booting (no logger yet), starting, serving, stopping. */
interface WorkerProcess {
  logger: Logger | undefined;
  /** Set once serving. */
  switchyard: Switchyard | undefined;
  /** A shutdown that arrived while starting: carried out once serving. */
  pendingShutdown: string | undefined;
  stopping: boolean;
}

/** Runs this worker until the supervisor stops it; returns -1 (the process stays alive). */
export function runWorker(): number {
  const self: WorkerProcess = { logger: undefined, switchyard: undefined, pendingShutdown: undefined, stopping: false };
  // Ctrl-C reaches every process of the group: one drain, led by the supervisor's message, not N.
  for (const signal of groupSignals) process.on(signal, () => self.logger?.info({ signal }, 'worker: signal left to the supervisor'));
  process.on('message', (message: unknown) => {
    if (isSwitchyardMessage(message)) received(self, message as ToWorker);
  });
  send({ type: 'switchyard:booted' });
  return -1;
}

function received(self: WorkerProcess, message: ToWorker): void {
  switch (message.type) {
    case 'switchyard:start':
      if (self.logger === undefined) void begin(self, message);
      return;
    case 'switchyard:shutdown':
      if (self.logger === undefined) process.exit(0);
      if (self.switchyard === undefined) self.pendingShutdown = message.signal;
      else stop(self, self.switchyard, message.signal);
      return;
    default:
      void reply(message, self.switchyard);
  }
}

/** Builds and starts the gateway from the supervisor's config; a failure exits 1 (the supervisor decides what next). */
async function begin(self: WorkerProcess, start: StartMessage): Promise<void> {
  const logger = createLogger({ level: start.config.log.level });
  self.logger = logger;
  exitOnCrash(logger);
  let switchyard: Switchyard | undefined;
  try {
    switchyard = await Switchyard.create(buildRuntimeConfig(start.config, start.file), { logger, instanceId: start.instanceId });
    await restoreFleetControls(switchyard.fleet, start.controls, Date.now());
    const { trafficPort } = await switchyard.start({ admin: false, sharedTrafficPort: true, watchConfig: false });
    self.switchyard = switchyard;
    send({ type: 'switchyard:ready', trafficPort, version: switchyard.runtime.version });
  } catch (err) {
    logger.fatal({ err: { message: (err as Error).message } }, 'worker could not start');
    await switchyard?.close(0).catch(() => {});
    await exitAfterFlush(logger, 1);
  }
  if (self.pendingShutdown !== undefined) stop(self, switchyard!, self.pendingShutdown);
}

/** The shutdown sequence of SPEC §8 (grace, close, drain), then exit 0. Once. */
function stop(self: WorkerProcess, switchyard: Switchyard, signal: string): void {
  if (self.stopping) return;
  self.stopping = true;
  watchShutdown(switchyard);
  void drain(switchyard, signal).then(() => exitAfterFlush(switchyard.logger, 0));
}

async function reply(request: WorkerRequest, switchyard: Switchyard | undefined): Promise<void> {
  try {
    if (switchyard === undefined) throw new Error('the worker is not serving yet');
    send({ type: 'switchyard:reply', id: request.id, ok: true, value: await answerRequest(request, switchyard) });
  } catch (err) {
    send({ type: 'switchyard:reply', id: request.id, ok: false, error: (err as Error).message });
  }
}

/** Sends to the supervisor; a supervisor that is gone takes this process with it (cluster exits it). */
function send(message: FromWorker): void {
  if (process.connected) process.send!(message);
}
