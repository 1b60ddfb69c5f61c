import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startSlowTarget } from '../../examples/slow-target/server.mjs';
import { spawnProxyServer } from '../../tools/test-support/index.mjs';
import { repoRoot } from './support/doc-environment.js';
import { readBlocks } from './support/markdown-blocks.js';

// docs/operations.md's metrics table, scrape config and alert rules, and the Grafana dashboard
// in docs/grafana, name only series a real proxy exposes; and the table names every one it does.

const operations = join(repoRoot, 'docs', 'operations.md');
const grafanaPath = join(repoRoot, 'docs', 'grafana', 'proxy-server.json');
const SERIES = /\b((?:proxy|process|nodejs)_[a-z0-9_]+)/g;

/** A histogram's samples are `<name>_bucket`, `_sum` and `_count`. */
const familyOf = (name: string, families: Set<string>) =>
  families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');

let families: Set<string>;
/** The store's figures: labelled with the store they describe, not with an instance. */
let storeFigures: Set<string>;

beforeAll(async () => {
  const target = await startSlowTarget();
  const proxy = await spawnProxyServer({
    args: ['--target-url', target.url, '--store', 'memory', '--log-level', 'warn'],
  });
  try {
    const text = await (await fetch(`${proxy.url}/metrics`)).text();
    families = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!));
    storeFigures = new Set(
      [...text.matchAll(/^(proxy_\w+)\{([^}]*)\}/gm)]
        .filter(([, , labels]) => /\bstore="/.test(labels!) && !/\binstance="/.test(labels!))
        .map((match) => match[1]!),
    );
  } finally {
    await proxy.stop();
    await target.close();
  }
}, 60_000);

/**
 * The expressions of `exprs` that read a store's figure without keeping `store` apart: two
 * proxies with stores of their own in one job would mix their figures.
 */
function acrossStores(exprs: string[]): string[] {
  return exprs.filter(
    (expr) =>
      [...expr.matchAll(SERIES)].some((m) => storeFigures.has(m[1]!)) &&
      !/\b(?:by|on) \([^)]*\bstore\b/.test(expr),
  );
}

describe('docs/operations.md, metrics', () => {
  it('lists every proxy_ series the proxy exposes, and no other', () => {
    const doc = readFileSync(operations, 'utf8');
    const table = doc.slice(
      doc.indexOf('### Metrics (Prometheus)'),
      doc.indexOf('A scrape configuration'),
    );
    const listed = new Set([...table.matchAll(/^\| `(proxy_[a-z_]+)`/gm)].map((m) => m[1]!));
    const exposed = [...families].filter((name) => name.startsWith('proxy_')).sort();
    expect(exposed.length).toBeGreaterThan(15);
    expect([...listed].sort()).toEqual(exposed);
  });

  it('writes its scrape config and alert rules with series that exist', () => {
    const yaml = readBlocks(operations, 'docs/operations.md')
      .filter((block) => block.lang === 'yaml')
      .map((block) => block.text)
      .join('\n');
    expect(yaml).toContain('alert: ProxyTargetDown');
    expect(yaml).toContain('alert: ProxyCallbacksPilingUp');
    const used = [...yaml.matchAll(SERIES)].map((m) => familyOf(m[1]!, families));
    expect(used.length).toBeGreaterThan(8);
    expect(used.filter((name) => !families.has(name))).toEqual([]);
  });

  // Prometheus pass: `max by (job)` of two proxies' queues over their capacities set one's queue
  // against the other's capacity, and the alert never fired.
  it("writes its alert rules on the store's figures by store", () => {
    const rules = readBlocks(operations, 'docs/operations.md')
      .filter((block) => block.lang === 'yaml')
      .flatMap((block) => block.text.split(/^\s*- alert:/m).slice(1));
    expect(storeFigures).toContain('proxy_queue_size');
    expect(rules.length).toBeGreaterThan(5);
    expect(acrossStores(rules)).toEqual([]);
  });
});

describe('docs/grafana/proxy-server.json', () => {
  const dashboard = JSON.parse(readFileSync(grafanaPath, 'utf8')) as {
    uid: string;
    panels: Array<{ id: number; type: string; targets?: Array<{ expr: string }> }>;
  };

  it('is an importable dashboard whose panels query only series the proxy exposes', () => {
    expect(dashboard.uid).toBe('proxy-server');
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const queries = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((t) => t.expr);
    expect(queries.length).toBeGreaterThan(15);
    const used = queries.flatMap((expr) =>
      [...expr.matchAll(SERIES)].map((m) => familyOf(m[1]!, families)),
    );
    expect(used.filter((name) => !families.has(name))).toEqual([]);
    // Every proxy_ series is on some panel, but a few counters that are better read in /stats.
    const shown = new Set(used);
    const offPanel = new Set([
      'proxy_info',
      'proxy_tasks_started_total',
      'proxy_tasks_requeued_total',
      'proxy_tasks_removed_total',
    ]);
    const missing = [...families].filter(
      (name) => name.startsWith('proxy_') && !shown.has(name) && !offPanel.has(name),
    );
    expect(missing).toEqual([]);
  });

  it("shows the store's figures by store, of the stores of the instances picked", () => {
    const queries = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((t) => t.expr);
    expect(storeFigures).toContain('proxy_queue_size');
    expect(acrossStores(queries)).toEqual([]);
    const ofStores = queries.filter((expr) =>
      [...expr.matchAll(SERIES)].some((m) => storeFigures.has(m[1]!)),
    );
    expect(ofStores.length).toBeGreaterThan(5);
    for (const expr of ofStores) {
      expect(expr).toContain('on (store) proxy_info{job=~"$job", instance=~"$instance"}');
    }
  });
});
