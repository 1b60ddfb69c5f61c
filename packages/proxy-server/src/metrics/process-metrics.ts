import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * prom-client's default metrics (CPU, memory, heap, event loop lag, GC, handles, file
 * descriptors) describe the process, and collecting them sets up observers that are never
 * taken down, so there is one registry of them per process, whichever server asks. Each scrape labels them with the asking server's instance name; scrapes of
 * several servers in one process (tests) take turns, so a label never lands on another's text.
 */
let registry: Registry | null = null;
let turn: Promise<unknown> = Promise.resolve();

const MISNAMED = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * Starts collecting, once per process; the first server built calls it, so the CPU counters
 * count from about the start of the process.
 */
export function processMetrics(): Registry {
  if (registry === null) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
    // Gauges named like counters; nodejs_active_{handles,requests,resources}, by type, stay.
    for (const name of MISNAMED) registry.removeSingleMetric(name);
  }
  return registry;
}

export function processMetricsText(instance: string): Promise<string> {
  const text = turn.then(() => {
    const process = processMetrics();
    process.setDefaultLabels({ instance });
    return process.metrics();
  });
  turn = text.catch(() => undefined);
  return text;
}
