import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../../tools/test-support/index.mjs';
import { repoRoot } from './doc-environment.js';
import { readBlocks } from './markdown-blocks.js';

const INSTALL_HINT = 'Debian: apt-get install prometheus';

/**
 * The YAML block of docs/operations.md that holds `marker`: `groups:` for the alert rules,
 * `scrape_configs:` for the scrape configuration.
 */
export function operationsYaml(marker: string): string {
  const blocks = readBlocks(join(repoRoot, 'docs', 'operations.md'), 'docs/operations.md').filter(
    (block) => block.lang === 'yaml' && block.text.includes(marker),
  );
  if (blocks.length !== 1) {
    throw new Error(`docs/operations.md has ${blocks.length} yaml blocks with ${marker}, not 1`);
  }
  return blocks[0]!.text;
}

/** The `expr:` of the rule `- alert: <name>` in `rules`, when it fits on its line. */
export function ruleExpression(rules: string, name: string): string {
  const match = new RegExp(`- alert: ${name}\\n\\s+expr: (.+)$`, 'm').exec(rules);
  if (!match?.[1] || match[1].trim() === '|') {
    throw new Error(`no one-line expr under "- alert: ${name}" in the rules`);
  }
  return match[1].trim();
}

export function promtool(args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { encoding: 'utf8', timeout: 30_000 });
  if (run.error) throw new Error(`cannot run promtool (${INSTALL_HINT}): ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/**
 * The docs' scrape configuration pointed at one local proxy, with its key in `credentialsFile`.
 * At the docs' 15 s a first scrape can wait that long past Prometheus' start, so a test scrapes
 * every second.
 */
export function localScrapeConfig(
  config: string,
  { target, credentialsFile }: { target: string; credentialsFile: string },
): string {
  const edits: Array<[what: string, line: RegExp, value: string]> = [
    ['scrape_interval', /^(\s*scrape_interval:\s*)\S+/m, '1s'],
    ['scrape_timeout', /^(\s*scrape_timeout:\s*)\S+/m, '1s'],
    ['credentials_file', /^(\s*credentials_file:\s*)\S+/m, credentialsFile],
    ['targets', /^(\s*- targets:\s*).*$/m, JSON.stringify([target])],
  ];
  return edits.reduce((text, [what, line, value]) => {
    if (!line.test(text)) {
      throw new Error(`docs/operations.md's scrape configuration has no ${what} line to adapt`);
    }
    return text.replace(line, (_, key: string) => `${key}${value}`);
  }, config);
}

export interface PrometheusProcess {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs Debian's `prometheus` on a free 127.0.0.1 port with its TSDB under `dir`. `timeout`
 * ends it should the test runner die first; a SIGTERM to `timeout` reaches Prometheus.
 */
export async function startPrometheus(configFile: string, dir: string): Promise<PrometheusProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'timeout',
    [
      '120',
      'prometheus',
      `--config.file=${configFile}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // `timeout` exits 127 when it cannot find the program.
  void exited.then(() => {
    if (child.exitCode === 127) output += `\ncannot run prometheus (${INSTALL_HINT})`;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The `data` of a Prometheus HTTP API answer, or an error naming the path and the answer. */
export async function prometheusApi<T>(prometheus: PrometheusProcess, path: string): Promise<T> {
  const response = await fetch(`${prometheus.url}${path}`);
  const body = (await response.json()) as { status: string; data?: T; error?: string };
  if (body.status !== 'success' || body.data === undefined) {
    throw new Error(`Prometheus ${path}: ${response.status} ${body.error ?? JSON.stringify(body)}`);
  }
  return body.data;
}
