/**
 * The supervisor's admin listener serves exactly the routes of a single process's: each one either
 * answered by the supervisor itself or relayed to the workers, so adding an admin route without
 * deciding how several workers answer it fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminRoutesOf } from '../../src/admin/shell.ts';
import { buildSupervisorAdminApp, relayedRoutes, supervisorRoutes } from '../../src/workers/admin-relay.ts';
import { FleetControlLog } from '../../src/workers/fleet-controls.ts';
import { createLogger } from '../../src/log/logger.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig, startSwitchyard } from '../helpers/switchyard.ts';

test('the supervisor serves every admin route of a single process, and no other', async (t) => {
  const upstream = await startUpstream(t, 'any');
  const single = await startSwitchyard(t, gatewayConfig({ east: upstream.url, south: upstream.url, standby: upstream.url }));
  const supervisor = buildSupervisorAdminApp({
    logger: createLogger({ level: 'silent' }), adminToken: () => '', version: () => 'v', accepting: () => true,
    allWorkersReady: () => true, workerStates: () => ({ starting: 0, ready: 0, restarting: 0, stopping: 0 }),
    servingWorkers: () => [], scrape: async () => '', metricsContentType: 'text/plain', reload: async () => ({ ok: true, version: 'v', changed: false }),
    controls: new FleetControlLog(),
  });
  t.after(() => supervisor.close());
  const names = (routes: readonly { method: string; url: string }[]) => routes.map((r) => `${r.method} ${r.url}`).sort();
  assert.deepEqual(names(adminRoutesOf(supervisor)), names(adminRoutesOf(single.switchyard.admin)));
  const relayed = new Set(relayedRoutes.map((r) => r.url));
  for (const url of supervisorRoutes) assert.ok(!relayed.has(url), `${url} is answered by the supervisor, not relayed`);
});
