import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { freePort, spawnProxyServer } from '../../tools/test-support/index.mjs';
import { repoRoot } from './support/doc-environment.js';
import {
  localScrapeConfig,
  operationsYaml,
  prometheusApi,
  promtool,
  ruleExpression,
  startPrometheus,
} from './support/prometheus.js';

// docs/operations.md's alert rules and scrape configuration, run by the real promtool and
// Prometheus (Debian's `prometheus` package): monitoring.test.ts checks only the series they name.

const unitTests = join(repoRoot, 'docs', 'test', 'fixtures', 'alert-rules.test.yml');
const rules = operationsYaml('groups:');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'proxy-prometheus-'));
  // The unit tests name the rules file beside them.
  writeFileSync(join(dir, 'operations-rules.yml'), `${rules}\n`);
  copyFileSync(unitTests, join(dir, 'alert-rules.test.yml'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/operations.md, alert rules', () => {
  it('are rules promtool accepts', () => {
    const run = promtool(['check', 'rules', join(dir, 'operations-rules.yml')]);
    expect(run.status, run.output).toBe(0);
    expect(run.output).toMatch(/SUCCESS: [1-9]\d* rules found/);
  });

  it('fire as docs/test/fixtures/alert-rules.test.yml expects, and stay silent when healthy', () => {
    const run = promtool(['test', 'rules', join(dir, 'alert-rules.test.yml')]);
    expect(run.status, run.output).toBe(0);
  });

  it('each have a unit test', () => {
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
    const tested = new Set(
      [...readFileSync(unitTests, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]!),
    );
    expect(alerts.length).toBeGreaterThan(5);
    expect(alerts.filter((name) => !tested.has(name))).toEqual([]);
  });
});

interface Target {
  labels: Record<string, string>;
  health: string;
  lastError: string;
}
interface Rule {
  name: string;
  health: string;
  state?: string;
  lastError?: string;
}
interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

describe('docs/operations.md, scrape configuration', () => {
  it('has a real Prometheus scrape a keyed proxy, whose dead target its rules see', async () => {
    // Nothing listens on the target's port: ProxyTargetDown's condition holds from the first scrape.
    const target = `http://127.0.0.1:${await freePort()}`;
    const key = 'prometheus-docs-key';
    const proxy = await spawnProxyServer({
      args: ['--target-url', target, '--store', 'memory', '--api-key', key, '--log-level', 'warn'],
    });
    onTestFinished(async () => {
      await proxy.stop();
    });
    const credentialsFile = join(dir, 'proxy-server.key');
    writeFileSync(credentialsFile, key, { mode: 0o600 });
    const scrape = localScrapeConfig(operationsYaml('scrape_configs:'), {
      target: new URL(proxy.url).host,
      credentialsFile,
    });
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      // Rules evaluate every minute by default; the test would wait that long for the first.
      `global:\n  evaluation_interval: 1s\nrule_files:\n  - operations-rules.yml\n${scrape}\n`,
    );
    const prometheus = await startPrometheus(config, dir);
    onTestFinished(() => prometheus.stop());
    const waitFor = <T>(check: () => Promise<T>) =>
      vi.waitFor(check, { timeout: 40_000, interval: 250 }).catch((error: unknown) => {
        throw new Error(
          `${String(error)}\nprometheus, last lines:\n${prometheus.output().slice(-2000)}`,
        );
      });

    const targets = await waitFor(async () => {
      const data = await prometheusApi<{ activeTargets: Target[] }>(prometheus, '/api/v1/targets');
      expect(data.activeTargets.map((t) => [t.health, t.lastError])).toEqual([['up', '']]);
      return data.activeTargets;
    });
    expect(targets[0]!.labels).toMatchObject({ job: 'proxy-server' });

    const expr = ruleExpression(rules, 'ProxyTargetDown');
    const found = await waitFor(async () => {
      const data = await prometheusApi<{ result: Sample[] }>(
        prometheus,
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      expect(data.result).toHaveLength(1);
      return data.result;
    });
    expect(found[0]!.metric).toEqual({ job: 'proxy-server' });
    expect(found[0]!.value[1]).toBe('0');

    const evaluated = await waitFor(async () => {
      const data = await prometheusApi<{ groups: Array<{ rules: Rule[] }> }>(
        prometheus,
        '/api/v1/rules',
      );
      const all = data.groups.flatMap((group) => group.rules);
      expect(all.find((rule) => rule.name === 'ProxyTargetDown')?.state).toBe('pending');
      return all;
    });
    expect(evaluated.filter((rule) => rule.health !== 'ok' || rule.lastError)).toEqual([]);
    expect(evaluated.filter((rule) => rule.state !== 'inactive').map((rule) => rule.name)).toEqual([
      'ProxyTargetDown',
    ]);
  });
});
