/**
 * How a worker answers the supervisor's requests: a pushed config is applied like a reload, an admin
 * request is answered by the worker's own admin app (never listening; `inject` runs it in memory, auth
 * included), and metrics are its registry's, unaggregated.
 */
import type { Switchyard } from '../server.ts';
import type { RelayedRequest, RelayedResponse, WorkerRequest, WorkerRequests } from './protocol.ts';

/** Response headers that describe the worker's in-memory exchange, not the answer; the supervisor's listener sets its own. */
const connectionHeaders: ReadonlySet<string> = new Set(['content-length', 'connection', 'keep-alive', 'transfer-encoding', 'date']);

/** The value to reply with; throws when the request cannot be answered. */
export async function answerRequest(request: WorkerRequest, switchyard: Switchyard): Promise<WorkerRequests[WorkerRequest['type']]['reply']> {
  switch (request.type) {
    case 'switchyard:apply-config': {
      const applied = switchyard.applyConfig(request.config, request.file);
      if (!applied.ok) throw new Error('the pushed config was refused');
      return { version: applied.version };
    }
    case 'switchyard:admin-request':
      return answerAdminRequest(switchyard, request.request);
    case 'switchyard:metrics':
      return switchyard.metrics.registry.getMetricsAsJSON();
  }
}

async function answerAdminRequest(switchyard: Switchyard, request: RelayedRequest): Promise<RelayedResponse> {
  const response = await switchyard.admin.inject({
    method: request.method as 'GET', url: request.url, headers: request.headers, remoteAddress: request.remoteAddress,
    ...(request.body === undefined ? {} : { payload: request.body }),
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined && !connectionHeaders.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return { status: response.statusCode, headers, body: response.body };
}
