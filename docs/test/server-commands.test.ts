import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { spawnProxyServer, waitFor } from '../../tools/test-support/index.mjs';
import { repoRoot } from './support/doc-environment.js';
import { allBlocks } from './support/doc-files.js';
import { isRunnable, isShell } from './support/markdown-blocks.js';
import { logicalLines, type ParsedCommand, parseCommand } from './support/shell-words.js';

// Commands that start a server cannot be `runnable` (they never exit), so this file starts each
// one as written (only the listen address is moved to 127.0.0.1 and a free port), waits until it
// listens and stops it. Tuning profiles and unit-file examples stay honest this way.
const SERVERS = new Set(['proxy-server', 'slow-target']);

interface ServerCommand extends ParsedCommand {
  where: string;
}

const startsServer = (cmd: ParsedCommand) =>
  SERVERS.has(cmd.command) && !cmd.args.some((arg) => /^-(h|-help|-version)$/.test(arg));

const commands: ServerCommand[] = allBlocks().flatMap((block): ServerCommand[] => {
  const where = `${block.file}:${block.line}`;
  // An environment file for the unit (`ini proxy-env`): the proxy must start from it alone.
  if (block.attributes.includes('proxy-env')) {
    const lines = logicalLines(block.text).filter((line) => !line.startsWith('#'));
    const env = parseCommand(`${lines.join(' ')} proxy-server`).env;
    return [{ env, command: 'proxy-server', args: [], where }];
  }
  if (!isShell(block) || isRunnable(block)) return [];
  return logicalLines(block.text)
    .map((line) => parseCommand(line))
    .filter(startsServer)
    .map((cmd) => ({ ...cmd, where }));
});

/** Drops `--name value` and `--name=value` so the test can choose the listen address. */
function without(args: string[], names: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (names.includes(arg)) i++;
    else if (!names.some((name) => arg.startsWith(`${name}=`))) out.push(arg);
  }
  return out;
}

async function startSlowTargetBin(cmd: ServerCommand): Promise<void> {
  const args = [...without(cmd.args, ['--port', '--host']), '--port', '0'];
  const child = spawn(process.execPath, [join(repoRoot, 'examples/slow-target/bin.mjs'), ...args], {
    env: { ...process.env, ...cmd.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  onTestFinished(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  await waitFor(() => output.includes('slow-target listening on http://'), {
    timeoutMs: 10_000,
    what: `slow-target to listen (output so far: ${output})`,
  });
}

async function startProxyServerBin(cmd: ServerCommand): Promise<void> {
  const proxy = await spawnProxyServer({
    args: without(cmd.args, ['--listen-port', '--listen-host']),
    // The flags spawnProxyServer adds win over these, as flags do over the environment.
    env: cmd.env,
  });
  onTestFinished(async () => {
    await proxy.stop('SIGKILL');
  });
  // `/` answers without asking the target, which may be a made-up host in the docs.
  const info = await fetch(`${proxy.url}/`);
  expect(info.status).toBe(200);
}

it('finds server commands and environment files in the docs', () => {
  expect(commands.some((cmd) => cmd.command === 'proxy-server' && cmd.args.length > 0)).toBe(true);
  expect(commands.some((cmd) => cmd.command === 'proxy-server' && cmd.args.length === 0)).toBe(
    true,
  );
});

describe.each(commands)('$where: $command', (cmd) => {
  it(`starts and listens: ${cmd.command} ${cmd.args.join(' ')}`, async () => {
    if (cmd.command === 'slow-target') await startSlowTargetBin(cmd);
    else await startProxyServerBin(cmd);
  });
});
