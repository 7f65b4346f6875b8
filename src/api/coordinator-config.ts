/**
 * The coordinator's configuration, taken from the runtime's options and wired to its traffic rules: each
 * origin's concurrency and rate come from `traffic`, and an origin the coordinator forgets is forgotten there
 * too, so an origin's whole record ends by one rule.
 */
import type { ResolvedOptions } from '../config/options.js';
import type { CoordinatorConfig } from '../scheduling/coordinator.js';
import { resolveTenants } from '../scheduling/tenants.js';
import type { TrafficController } from '../traffic/traffic-controller.js';

export function coordinatorConfig(
  options: ResolvedOptions,
  traffic: TrafficController,
  onWake: () => void,
): CoordinatorConfig {
  return {
    workers: options.workers,
    connectionsPerHost: options.connectionsPerHost,
    concurrencyPerWorker: options.concurrencyPerWorker,
    maxQueue: options.maxQueue,
    maxOrigins: options.maxOrigins,
    balancing: options.balancing,
    tenants: resolveTenants(options.tenants, options.maxQueue),
    originRules: (origin) => traffic.originRules(origin, new URL(origin).hostname),
    onForget: (origin) => {
      traffic.forget(origin);
    },
    onWake,
  };
}
