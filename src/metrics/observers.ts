/**
 * Fans a finished request out to everything that watches traffic: metrics, the status page's traffic
 * split and the access log. One observer for the gateway, so the proxy knows none of them.
 */
import type { RequestObserver } from '../proxy/gateway.ts';
import type { StateLogger } from '../state/logger.ts';
import type { SwitchyardMetrics } from './metrics.ts';
import type { TrafficSeries } from './traffic-series.ts';

export interface RequestWatchers {
  readonly metrics: SwitchyardMetrics;
  readonly trafficSeries: TrafficSeries;
  readonly accessLog: RequestObserver;
  readonly logger: StateLogger;
}

/** The gateway's observer; a watcher that throws is logged and never breaks the proxy. */
export function observeRequests(watchers: RequestWatchers): RequestObserver {
  const { metrics, trafficSeries, accessLog, logger } = watchers;
  return {
    requestEnded(record, exchange) {
      try {
        metrics.requestEnded(record, exchange);
        trafficSeries.count(record.cluster);
        accessLog.requestEnded(record, exchange);
      } catch (err) {
        logger.error({ err: { message: (err as Error).message } }, 'request observer failed');
      }
    },
  };
}
