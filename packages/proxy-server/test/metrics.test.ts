import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import {
  type DataBody,
  type Stats,
  type SubmitBody,
  TASK_ERROR_CODES,
  TASK_STATUSES,
  TERMINAL_STATUSES,
} from 'proxy-client/wire';
import { waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { BackendCounts, TaskEvent } from '../src/engine/task-backend.js';
import type { TaskSummary } from '../src/engine/task-record.js';
import { ProxyMetrics } from '../src/metrics/proxy-metrics.js';
import { FakeClock } from './engine/harness.js';
import { startProxy, startTarget } from './helper.js';

/** One sample of the exposition: `name{labels} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  name: string;
  help: string | undefined;
  type: string | undefined;
  samples: Sample[];
}

/** Parses Prometheus' text format 0.0.4 strictly enough to check it (no escapes in our labels). */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let found = families.get(name);
    if (!found) {
      found = { name, help: undefined, type: undefined, samples: [] };
      families.set(name, found);
    }
    return found;
  };
  let current: Family | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      current = family(meta[2]!);
      if (meta[1] === 'HELP') current.help = meta[3];
      else current.type = meta[3];
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const [, name, labelText = '', value] = sample;
    const labels = Object.fromEntries(
      [...labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    const owner = current && name!.startsWith(current.name) ? current : family(name!);
    owner.samples.push({ name: name!, labels, value: Number(value) });
  }
  return families;
}

/** The value of the one sample named `name` whose labels include `labels`. */
function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
) {
  const samples = [...families.values()]
    .flatMap((family) => family.samples)
    .filter(
      (sample) =>
        sample.name === name &&
        Object.entries(labels).every(([label, value]) => sample.labels[label] === value),
    );
  if (samples.length !== 1)
    throw new Error(`${samples.length} samples of ${name} ${JSON.stringify(labels)}`);
  return samples[0]!.value;
}

describe('GET /metrics', () => {
  it('agrees with /stats after a run that completes, fails, cancels and rejects tasks', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--max-concurrent', '1', '--num-workers', '1', '--max-queue-size', '3'],
    });
    const post = (path: string) => fetch(proxy.url + path, { method: 'POST' });
    // One call holds the only slot; three wait; two more find the queue full.
    const long = await proxy.submit('/api/long?seconds=60');
    await waitFor(async () => (await proxy.getTask(long)).status === 'processing', {
      what: 'the long task to start',
    });
    // One proxy on its store: its own calls are all the store has.
    const whileHeld = parseExposition(await (await fetch(`${proxy.url}/metrics`)).text());
    expect(sampleValue(whileHeld, 'proxy_instance_upstream_in_flight')).toBe(1);
    expect(sampleValue(whileHeld, 'proxy_upstream_in_flight')).toBe(1);
    const queued = [
      await proxy.submit('/api/function1'),
      await proxy.submit('/api/function1'),
      await proxy.submit('/api/fail?status=500'),
    ];
    expect((await post('/api/function1')).status).toBe(503);
    expect((await post('/api/function1')).status).toBe(503);
    expect((await fetch(`${proxy.url}/task/${long}`, { method: 'DELETE' })).status).toBe(200);
    for (const id of queued) await proxy.finished(id);

    const stats = ((await (await fetch(`${proxy.url}/stats`)).json()) as DataBody<Stats>).data;
    const response = await fetch(`${proxy.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const metrics = parseExposition(await response.text());
    const value = (name: string, labels?: Record<string, string>) =>
      sampleValue(metrics, name, labels);

    expect(stats.totals).toMatchObject({
      submitted: 4,
      completed: 2,
      failed: 1,
      cancelled: 1,
      rejected_queue_full: 2,
    });
    expect(value('proxy_tasks_submitted_total')).toBe(stats.totals.submitted);
    expect(value('proxy_tasks_rejected_total', { reason: 'queue_full' })).toBe(
      stats.totals.rejected_queue_full,
    );
    for (const status of ['completed', 'failed', 'cancelled', 'expired'] as const) {
      expect(value('proxy_tasks_finished_total', { status }), status).toBe(stats.totals[status]);
    }
    for (const status of TASK_STATUSES) {
      expect(value('proxy_tasks', { status }), status).toBe(stats.tasks[status]);
    }
    expect(value('proxy_queue_size')).toBe(stats.queue_size);
    expect(value('proxy_queue_capacity')).toBe(stats.max_queue_size);
    expect(value('proxy_upstream_in_flight')).toBe(stats.in_flight);
    expect(value('proxy_instance_upstream_in_flight')).toBe(0);
    expect(value('proxy_upstream_concurrency_limit')).toBe(stats.effective_concurrency);
    expect(value('proxy_long_tasks')).toBe(stats.long_tasks);
    expect(value('proxy_upstream_responses_total', { status_code: '200' })).toBe(2);
    expect(value('proxy_upstream_responses_total', { status_code: '500' })).toBe(1);
    expect(value('proxy_tasks_started_total')).toBe(4);
    expect(value('proxy_task_queue_wait_seconds_count')).toBe(4);
    expect(value('proxy_task_processing_seconds_count', { status: 'completed' })).toBe(2);
    expect(value('proxy_task_processing_seconds_count', { status: 'cancelled' })).toBe(1);
    expect(value('proxy_store_up')).toBe(1);
    expect(value('proxy_target_up')).toBe(1);
    expect(value('proxy_info', { store_kind: 'memory' })).toBe(1);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts retries, sheds and expiries as /stats does, none of them an upstream error', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: [
        ...['--max-concurrent', '1', '--num-workers', '1', '--max-queue-size', '2'],
        ...['--retry-on', '500', '--max-attempts', '2'],
        ...['--retry-min-delay', '0.05', '--retry-max-delay', '0.1'],
      ],
    });
    const submit = async (path: string, headers: Record<string, string> = {}) => {
      const response = await fetch(proxy.url + path, { method: 'POST', headers });
      expect(response.status).toBe(202);
      return ((await response.json()) as SubmitBody).task_id;
    };
    // A 500 is called twice: one retry, then the task fails.
    const failed = await submit('/api/fail?status=500');
    expect(await proxy.finished(failed)).toMatchObject({ status: 'failed', attempts: 2 });
    // Behind a call holding the only slot: a task that may wait 0.2 s, and a low one that a high
    // one sheds from the full queue.
    const long = await proxy.submit('/api/long?seconds=60');
    await waitFor(async () => (await proxy.getTask(long)).status === 'processing', {
      what: 'the long task to start',
    });
    const late = await submit('/api/function1', { 'x-proxy-max-queue-time': '0.2' });
    const low = await submit('/api/function1', { 'x-proxy-priority': 'low' });
    const high = await submit('/api/function1', { 'x-proxy-priority': 'high' });
    expect((await proxy.finished(low)).error?.code).toBe('shed');
    expect((await proxy.finished(late)).status).toBe('expired');
    expect((await fetch(`${proxy.url}/task/${long}`, { method: 'DELETE' })).status).toBe(200);
    expect((await proxy.finished(high)).status).toBe('completed');

    const stats = ((await (await fetch(`${proxy.url}/stats`)).json()) as DataBody<Stats>).data;
    const metrics = parseExposition(await (await fetch(`${proxy.url}/metrics`)).text());
    const value = (name: string, labels?: Record<string, string>) =>
      sampleValue(metrics, name, labels);
    expect(stats.delivery).toMatchObject({ retries: 1, shed: 1, retrying: 0 });
    expect(stats.totals).toMatchObject({ completed: 1, failed: 2, cancelled: 1, expired: 1 });
    expect(value('proxy_task_retries_total')).toBe(stats.delivery.retries);
    expect(value('proxy_tasks_shed_total')).toBe(stats.delivery.shed);
    expect(value('proxy_tasks_retrying')).toBe(stats.delivery.retrying);
    for (const status of TERMINAL_STATUSES) {
      expect(value('proxy_tasks_finished_total', { status }), status).toBe(stats.totals[status]);
    }
    // The retried call's 500 is not an answer that ended the task; the last one is.
    expect(value('proxy_upstream_responses_total', { status_code: '500' })).toBe(1);
    const errorCodes = (metrics.get('proxy_upstream_errors_total')?.samples ?? []).map(
      (sample) => sample.labels.code,
    );
    expect(errorCodes).not.toContain('expired');
    expect(errorCodes).not.toContain('shed');
  });

  // Hostile receivers pass: a callback given up showed in /stats only, and an alert on it had
  // no series to watch.
  it('counts callbacks delivered and given up as /stats does', async () => {
    const receiver = createServer((request, response) => {
      response.statusCode = request.url === '/ok' ? 200 : 500;
      response.end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const origin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const target = await startTarget();
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: [
        ...['--callback-allow', origin, '--webhook-secret', secret],
        ...['--callback-max-attempts', '1'],
      ],
    });
    for (const path of ['/ok', '/bad']) {
      const response = await fetch(`${proxy.url}/api/function1`, {
        method: 'POST',
        headers: { 'x-proxy-callback-url': origin + path },
      });
      expect(response.status).toBe(202);
    }
    const callbacks = async () =>
      ((await (await fetch(`${proxy.url}/stats`)).json()) as DataBody<Stats>).data.delivery
        .callbacks;
    await waitFor(async () => (await callbacks()).delivered + (await callbacks()).failed === 2, {
      what: 'both callbacks to settle',
    });
    expect(await callbacks()).toEqual({ delivered: 1, failed: 1, pending: 0 });
    const metrics = parseExposition(await (await fetch(`${proxy.url}/metrics`)).text());
    expect(sampleValue(metrics, 'proxy_callbacks_total', { outcome: 'delivered' })).toBe(1);
    expect(sampleValue(metrics, 'proxy_callbacks_total', { outcome: 'given_up' })).toBe(1);
  });

  it("names every series by Prometheus' conventions, typed, described, in base units", async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    await proxy.finished(await proxy.submit('/api/function1'));
    await proxy.finished(await proxy.submit('/api/fail?status=502'));
    const families = parseExposition(await (await fetch(`${proxy.url}/metrics`)).text());
    const ours = [...families.values()].filter((family) => family.name.startsWith('proxy_'));
    expect(ours.length).toBeGreaterThan(15);
    const problems: string[] = [];
    for (const family of families.values()) {
      const { name, type, help, samples } = family;
      const say = (problem: string) => problems.push(`${name}: ${problem}`);
      if (!/^[a-z_:][a-z0-9_:]*$/.test(name)) say('not snake_case');
      if (!help) say('no HELP');
      if (!['counter', 'gauge', 'histogram', 'summary'].includes(type ?? '')) say(`type ${type}`);
      if (type === 'counter' && !name.endsWith('_total')) say('a counter without _total');
      if (type !== 'counter' && name.endsWith('_total')) say(`a ${type} named _total`);
      if (/_(count|sum|bucket)$/.test(name)) say('a reserved suffix');
      if (
        /_(milli|micro|nano)?(seconds?_ms|ms|millis|milliseconds|minutes|hours|days|kb|kilobytes|mb|megabytes|percent)(_|$)/.test(
          name,
        )
      )
        say('not in base units');
      if (type === 'histogram') {
        if (!/_(seconds|bytes)$/.test(name)) say('a histogram without its unit');
        const series = new Map<string, Sample[]>();
        for (const sample of samples.filter((s) => s.name === `${name}_bucket`)) {
          const { le, ...rest } = sample.labels;
          const key = JSON.stringify(rest);
          series.set(key, [...(series.get(key) ?? []), sample]);
        }
        if (series.size === 0) say('no buckets');
        for (const [key, buckets] of series) {
          const bounds = buckets.map((b) =>
            b.labels.le === '+Inf' ? Infinity : Number(b.labels.le),
          );
          if (bounds.at(-1) !== Infinity) say(`${key}: no +Inf bucket`);
          if (bounds.some((b, i) => i > 0 && b <= bounds[i - 1]!)) say(`${key}: bounds not rising`);
          const counts = buckets.map((b) => b.value);
          if (counts.some((c, i) => i > 0 && c < counts[i - 1]!))
            say(`${key}: counts not cumulative`);
          const count = samples.find(
            (s) => s.name === `${name}_count` && JSON.stringify(s.labels) === key,
          );
          if (count?.value !== counts.at(-1)) say(`${key}: _count is not the +Inf bucket`);
          if (!samples.some((s) => s.name === `${name}_sum` && JSON.stringify(s.labels) === key))
            say(`${key}: no _sum`);
        }
      } else {
        for (const sample of samples) if (sample.name !== name) say(`stray sample ${sample.name}`);
      }
      for (const sample of samples) {
        for (const label of Object.keys(sample.labels)) {
          if (!/^[a-z_][a-z0-9_]*$/.test(label) || label.startsWith('__')) say(`label ${label}`);
        }
        if (!Number.isFinite(sample.value)) say(`value ${sample.value}`);
      }
    }
    expect(problems).toEqual([]);

    // This instance's series carry the instance label; the store's carry the store's instead,
    // which for a local store is the instance's name, as on proxy_info.
    const shared = [
      'proxy_tasks',
      'proxy_queue_size',
      'proxy_queue_capacity',
      'proxy_upstream_in_flight',
      'proxy_upstream_concurrency_limit',
      'proxy_long_tasks',
      'proxy_oldest_call_seconds',
      'proxy_tasks_retrying',
      'proxy_callbacks_pending',
    ];
    const instance = `${hostname()}:${new URL(proxy.url).port}`;
    for (const family of families.values()) {
      const labelled = family.samples.every((sample) => sample.labels.instance === instance);
      expect(labelled, family.name).toBe(!shared.includes(family.name));
      const ofStore = family.samples.filter((sample) => sample.labels.store !== undefined);
      expect(ofStore.length > 0, family.name).toBe(
        shared.includes(family.name) || family.name === 'proxy_info',
      );
      for (const sample of ofStore) expect(sample.labels.store, family.name).toBe(instance);
    }
  });

  // Prometheus pass: two proxies on stores of their own in one job reported their store
  // figures unlabelled, so `max by (job)` divided one's queue by the other's capacity.
  it("labels each local store's figures with its own instance's name, as proxy_info", async () => {
    const target = await startTarget();
    const scrape = async (name: string, maxQueueSize: string) => {
      const proxy = await startProxy(target.url, {
        listen: true,
        flags: ['--metrics-instance', name, '--max-queue-size', maxQueueSize],
      });
      return parseExposition(await (await fetch(`${proxy.url}/metrics`)).text());
    };
    const [one, two] = [await scrape('proxy-1', '100'), await scrape('proxy-2', '1000')];
    expect(sampleValue(one, 'proxy_queue_capacity', { store: 'proxy-1' })).toBe(100);
    expect(sampleValue(two, 'proxy_queue_capacity', { store: 'proxy-2' })).toBe(1000);
    expect(sampleValue(two, 'proxy_queue_size', { store: 'proxy-2' })).toBe(0);
    expect(sampleValue(two, 'proxy_info', { instance: 'proxy-2', store: 'proxy-2' })).toBe(1);
  });

  it('needs the API key unless --public-metrics; --metrics-instance names the instance', async () => {
    const target = await startTarget();
    const closed = await startProxy(target.url, { listen: true, flags: ['--api-key', 'k3y'] });
    expect((await fetch(`${closed.url}/metrics`)).status).toBe(401);
    const withKey = await fetch(`${closed.url}/metrics`, {
      headers: { authorization: 'Bearer k3y' },
    });
    expect(withKey.status).toBe(200);

    const open = await startProxy(target.url, {
      listen: true,
      flags: ['--api-key', 'k3y', '--public-metrics', '--metrics-instance', 'proxy-a'],
    });
    const response = await fetch(`${open.url}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('proxy_tasks_submitted_total{instance="proxy-a"} 0');
    // Only /metrics opens: the rest still needs the key.
    expect((await fetch(`${open.url}/stats`)).status).toBe(401);
  });
});

describe('proxy_target_up', () => {
  it('is 0 when the target does not answer, 1 when it does', async () => {
    const target = await startTarget();
    const up = await startProxy(target.url, { listen: true });
    const down = await startProxy('http://127.0.0.1:1', { listen: true });
    const scrape = async (url: string) =>
      sampleValue(parseExposition(await (await fetch(`${url}/metrics`)).text()), 'proxy_target_up');
    expect(await scrape(up.url)).toBe(1);
    expect(await scrape(down.url)).toBe(0);
  });
});

describe('ProxyMetrics', () => {
  const counts: BackendCounts = {
    pending: 1,
    processing: 2,
    completed: 3,
    failed: 4,
    cancelled: 0,
    expired: 0,
    total: 10,
    long: 1,
    queued: 1,
    inFlight: 2,
    inFlightStartedAt: [],
    retrying: 1,
    callbacksPending: 2,
    tenants: [],
  };
  const clock = new FakeClock();
  const metricsWith = (store: ConstructorParameters<typeof ProxyMetrics>[0]['store']) =>
    new ProxyMetrics({
      store,
      probeTarget: async () => ({ reachable: false, latencyMs: null }),
      instance: () => 'test',
      maxQueueSize: 100,
      concurrency: 5,
      version: '0.0.0',
      storeKind: 'redis',
      storeName: () => 'redis://redis:6379/0 (prefix proxy)',
      clock,
      callsHere: () => 0,
    });
  const task = {
    id: 't',
    status: 'completed',
    createdAt: 0,
    startedAt: 10,
    completedAt: 30,
  } as unknown as TaskSummary;
  const event = (local: boolean): TaskEvent => ({ id: '1', type: 'finished', task, local });

  it("counts only the transitions this instance made, and reads the store's figures", async () => {
    const metrics = metricsWith({
      counts: async () => counts,
      health: async () => ({ available: true, message: null }),
    });
    metrics.record(event(false));
    metrics.record({ id: '2', type: 'created', task, local: false });
    let families = parseExposition(await metrics.scrape());
    expect(sampleValue(families, 'proxy_tasks_finished_total', { status: 'completed' })).toBe(0);
    expect(sampleValue(families, 'proxy_tasks_submitted_total')).toBe(0);
    expect(sampleValue(families, 'proxy_tasks', { status: 'failed' })).toBe(4);
    expect(sampleValue(families, 'proxy_callbacks_pending')).toBe(2);
    metrics.record(event(true));
    families = parseExposition(await metrics.scrape());
    expect(sampleValue(families, 'proxy_tasks_finished_total', { status: 'completed' })).toBe(1);
    expect(
      sampleValue(families, 'proxy_task_processing_seconds_sum', { status: 'completed' }),
    ).toBe(0.02);
  });

  // Monitoring pass: a retried call's wait was counted from the task's admission, its earlier
  // calls and their backoff with it, so retries pulled the histogram far up.
  it("times each call's wait in the queue from when it was due, a retry's from its retryAt", async () => {
    const metrics = metricsWith({
      counts: async () => counts,
      health: async () => ({ available: true, message: null }),
    });
    const attempt = { outcome: 'failed', statusCode: 503, errorCode: null } as const;
    const started = (startedAt: number, attemptLog: unknown[]): TaskEvent => ({
      id: 'r',
      type: 'started',
      task: { ...task, status: 'processing', createdAt: 0, startedAt, attemptLog } as TaskSummary,
      local: true,
    });
    // Admitted at 0, started at 2 s; retried at 5 s, due at 9 s, started at 9.5 s.
    metrics.record(started(2_000, []));
    metrics.record(
      started(9_500, [
        { ...attempt, attempt: 1, startedAt: 2_000, finishedAt: 5_000, retryAt: 9_000 },
      ]),
    );
    // Cut off by a stop at 12 s and back in line from then, started again at 12.25 s.
    metrics.record(
      started(12_250, [
        { ...attempt, attempt: 1, startedAt: 2_000, finishedAt: 5_000, retryAt: 9_000 },
        { ...attempt, attempt: 2, startedAt: 9_500, finishedAt: 12_000, retryAt: null },
      ]),
    );
    const families = parseExposition(await metrics.scrape());
    expect(sampleValue(families, 'proxy_task_queue_wait_seconds_count')).toBe(3);
    expect(sampleValue(families, 'proxy_task_queue_wait_seconds_sum')).toBe(2.75);
  });

  it('says how long the oldest call in flight has run, 0 with none', async () => {
    let inFlightStartedAt = [clock.now() - 90_000, clock.now() - 1_000];
    const metrics = metricsWith({
      counts: async () => ({ ...counts, inFlightStartedAt }),
      health: async () => ({ available: true, message: null }),
    });
    expect(sampleValue(parseExposition(await metrics.scrape()), 'proxy_oldest_call_seconds')).toBe(
      90,
    );
    clock.advance(30_000);
    expect(sampleValue(parseExposition(await metrics.scrape()), 'proxy_oldest_call_seconds')).toBe(
      120,
    );
    inFlightStartedAt = [];
    expect(sampleValue(parseExposition(await metrics.scrape()), 'proxy_oldest_call_seconds')).toBe(
      0,
    );
  });

  it('counts every upstream error code from 0, and no other task error code', async () => {
    const metrics = metricsWith({
      counts: async () => counts,
      health: async () => ({ available: true, message: null }),
    });
    const families = parseExposition(await metrics.scrape());
    const codes = families.get('proxy_upstream_errors_total')?.samples.map((s) => s.labels.code);
    expect(codes?.sort()).toEqual(
      Object.keys(TASK_ERROR_CODES)
        .filter((code) => !['upstream_status', 'expired', 'shed'].includes(code))
        .sort(),
    );
    expect(families.get('proxy_upstream_errors_total')?.samples.map((s) => s.value)).toEqual(
      codes?.map(() => 0),
    );
  });

  it("labels the store's figures with the store's name", async () => {
    const metrics = metricsWith({
      counts: async () => counts,
      health: async () => ({ available: true, message: null }),
    });
    const families = parseExposition(await metrics.scrape());
    const store = 'redis://redis:6379/0 (prefix proxy)';
    expect(sampleValue(families, 'proxy_queue_size', { store })).toBe(1);
    expect(sampleValue(families, 'proxy_queue_capacity', { store })).toBe(100);
    expect(sampleValue(families, 'proxy_info', { store, store_kind: 'redis' })).toBe(1);
  });

  // Redis pass: a hung Redis held a scrape for its command timeout and more, past a short
  // scrape_timeout, where the instance showed as down rather than as unable to use its store.
  it('answers without the store when its read takes over 2 s', async () => {
    const metrics = metricsWith({
      counts: () => new Promise<never>(() => undefined),
      health: async () => ({ available: true, message: null }),
    });
    const scraped = metrics.scrape();
    clock.advance(2_000);
    const families = parseExposition(await scraped);
    expect(sampleValue(families, 'proxy_store_up')).toBe(0);
    expect(families.has('proxy_queue_size')).toBe(false);
  });

  it('reports the store down, and none of its figures, when it cannot be read', async () => {
    let available = true;
    const metrics = metricsWith({
      counts: async () => {
        if (!available) throw new Error('store gone');
        return counts;
      },
      health: async () => ({ available, message: available ? null : 'store gone' }),
    });
    expect(sampleValue(parseExposition(await metrics.scrape()), 'proxy_queue_size')).toBe(1);
    available = false;
    const families = parseExposition(await metrics.scrape());
    expect(sampleValue(families, 'proxy_store_up')).toBe(0);
    expect(sampleValue(families, 'proxy_target_up')).toBe(0);
    expect(families.has('proxy_queue_size')).toBe(false);
    expect(families.has('proxy_tasks')).toBe(false);
    expect(sampleValue(families, 'proxy_queue_capacity')).toBe(100);
  });
});
