import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { SubmitBody, Task } from 'proxy-client/wire';
import { spawnProxyServer } from 'test-support';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { runBinAsync } from '../helper.js';
import { getJson, pathOf, redisForTest, targetForTest } from './instances.js';

/** Makes an ACL user on `url`'s Redis with these rules, as an operator would. */
async function aclUser(url: string, name: string, rules: string[]): Promise<void> {
  const admin = new Redis(url);
  onTestFinished(() => admin.disconnect());
  await admin.call('ACL', 'SETUSER', name, 'on', '>pw', ...rules);
}

/** The built bin started on a store it should refuse: its exit code and what it wrote. */
function startRefused(store: string) {
  return runBinAsync(['--target-host', 'h', '--listen-host', '127.0.0.1', '--listen-port', '0'], {
    env: { PROXY_STORE: store },
    timeoutMs: 15_000,
  });
}

const NEEDS =
  "the proxy needs EVAL and EVALSHA (its scripts and BullMQ's run hash, set, sorted-set and stream commands), INFO, and BullMQ's and the event feed's blocking reads, all on keys under proxy: and no channels";

// Operator pass: a user without EVAL, or whose keys were another prefix's, stopped the start with
// exit 1 (as if Redis might come round by itself), a JSON error log with stacks on stdout, and a
// line saying "the task store failed opening the task store".
describe('proxy-server on a Redis whose ACL user lacks what the store needs', () => {
  it.each([
    {
      rules: ['~*', '+@all', '-eval', '-evalsha'],
      refused: "the EVAL command (NOPERM this user has no permissions to run the 'eval' command)",
    },
    {
      rules: ['~other:*', '+@all'],
      refused:
        'a key under proxy: (as it ran HGET), so its key patterns do not cover proxy:* (NOPERM this user has no permissions to access one of the keys used as arguments)',
    },
    {
      rules: ['~*', '+@all', '-select'],
      db: 3,
      refused:
        "the SELECT command (NOPERM this user has no permissions to run the 'select' command)",
    },
  ])(
    'refuses to start, exit 2, naming the user, what was refused and the grant: $rules',
    async ({ rules, refused, db = 0 }) => {
      const redis = await redisForTest();
      await aclUser(redis.url, 'limited', rules);
      const shown = redis.url.replace(/\/0$/, `/${db}`);
      const result = await startRefused(shown.replace('redis://', 'redis://limited:pw@'));
      expect(result.status).toBe(2);
      expect(result.stderr).toBe(
        `proxy-server: Redis at ${shown} refuses user limited ${refused}; ${NEEDS}: ACL SETUSER limited ~proxy:* +@all\n`,
      );
      expect(result.stdout).not.toMatch(/"level":50/);
    },
  );

  it('starts and runs a task with the ACL line docs/operations.md gives', async () => {
    const operations = readFileSync(
      new URL('../../../../docs/operations.md', import.meta.url),
      'utf8',
    );
    const line = /^redis-cli (ACL SETUSER .*)$/m.exec(operations)?.[1];
    const [, user, password] = /^ACL SETUSER (\S+) on '>([^']+)'/.exec(line ?? '') ?? [];
    expect(user && password, 'the ACL line in docs/operations.md').toBeTruthy();
    const redis = await redisForTest();
    await promisify(execFile)('bash', ['-c', `redis-cli -p ${redis.port} ${line}`]);
    const target = await targetForTest();
    const url = redis.url.replace(
      'redis://',
      `redis://${user}:${encodeURIComponent(password as string)}@`,
    );
    const proxy = await spawnProxyServer({
      args: ['--target-url', target.url, '--store', url, '--log-level', 'warn'],
    });
    onTestFinished(async () => {
      await proxy.stop('SIGKILL');
    });
    const response = await fetch(proxy.url + pathOf(1, 0), { method: 'POST' });
    expect(response.status).toBe(202);
    const { task_id: id } = (await response.json()) as SubmitBody;
    await vi.waitFor(
      async () => expect((await getJson<Task>(`${proxy.url}/task/${id}`)).status).toBe('completed'),
      { timeout: 10_000 },
    );
    expect(proxy.output()).not.toMatch(/NOPERM|"level":50/);
  });
});

// Operator pass: a user without INFO was refused with exit 2, but after two "Skipping the ready
// check" warnings of ioredis's on stderr and a JSON error log of BullMQ's on stdout.
it('refuses a user without INFO with its one line, and nothing else said', async () => {
  const redis = await redisForTest();
  await aclUser(redis.url, 'limited', ['~*', '+@all', '-info']);
  const result = await startRefused(redis.url.replace('redis://', 'redis://limited:pw@'));
  expect(result.status).toBe(2);
  expect(result.stderr).toBe(
    `proxy-server: Redis at ${redis.url} refuses user limited the INFO command (NOPERM this user has no permissions to run the 'info' command); ${NEEDS}: ACL SETUSER limited ~proxy:* +@all\n`,
  );
  expect(result.stdout).toBe('');
});

const CORRECT =
  'correct them in the URL, redis://<user>:<password>@host:port/db (redis://:<password>@… for the default user), with any of @ : / ? # % in them percent-encoded';

// Operator pass: a wrong password, or a user Redis does not know, stopped the start with exit 1,
// as if Redis might come round by itself, and "refused the credentials" with no word of what to do.
describe('proxy-server on a Redis that refuses the credentials', () => {
  it.each([
    {
      credentials: ':wrong@',
      line: (where: string) =>
        `Redis at ${where} refuses user default with the password the URL gives (WRONGPASS invalid username-password pair or user is disabled.): the user is unknown to it, off (ACL SETUSER <user> on), or has another password; ${CORRECT}`,
    },
    {
      credentials: 'nobody:secret@',
      line: (where: string) =>
        `Redis at ${where} refuses user nobody with the password the URL gives (WRONGPASS invalid username-password pair or user is disabled.): the user is unknown to it, off (ACL SETUSER <user> on), or has another password; ${CORRECT}`,
    },
    {
      credentials: '',
      line: (where: string) =>
        `Redis at ${where} asks for a password, and the URL gives none (NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time): give it in the URL, redis://:<password>@host:port/db (redis://<user>:<password>@… for an ACL user), with any of @ : / ? # % in it percent-encoded`,
    },
  ])(
    'refuses to start, exit 2, with one line saying what to do: $credentials',
    async ({ credentials, line }) => {
      const redis = await redisForTest();
      const admin = new Redis(redis.url);
      await admin.config('SET', 'requirepass', 'secret');
      admin.disconnect();
      const result = await startRefused(redis.url.replace('redis://', `redis://${credentials}`));
      expect(result.status).toBe(2);
      expect(result.stderr).toBe(`proxy-server: ${line(redis.url)}\n`);
      expect(result.stdout).toBe('');
    },
  );
});

// Operator pass: a user without SELECT, on a Redis too busy to answer INFO as the start connected,
// stopped the start with exit 1 and "refused the credentials (NOPERM …)": a denial, not a password.
it('refuses a user without SELECT with the ACL line even when a later command fails too', async () => {
  const redis = await redisForTest();
  await aclUser(redis.url, 'limited', ['~*', '+@all', '-select']);
  const admin = new Redis(redis.url);
  onTestFinished(async () => {
    await admin.script('KILL').catch(() => undefined);
    admin.disconnect();
  });
  await admin.config('SET', 'busy-reply-threshold', '1');
  // A script that never ends: Redis answers BUSY to INFO, but its ACL still refuses SELECT first.
  const busy = new Redis(redis.url);
  onTestFinished(() => busy.disconnect());
  busy.eval('while true do end', 0).catch(() => undefined);
  await vi.waitFor(async () => expect(await admin.ping().catch(String)).toMatch(/BUSY/));
  const shown = redis.url.replace(/\/0$/, '/3');
  const result = await startRefused(shown.replace('redis://', 'redis://limited:pw@'));
  expect(result.status).toBe(2);
  expect(result.stderr).toBe(
    `proxy-server: Redis at ${shown} refuses user limited the SELECT command (NOPERM this user has no permissions to run the 'select' command); ${NEEDS}: ACL SETUSER limited ~proxy:* +@all\n`,
  );
});

/**
 * The messages of the errors the proxy logged, by their log lines' `msg`: every one, as a
 * reconnecting client may log a closed connection after the denial the test looks for.
 */
function loggedErrors(output: string): Map<string, string[]> {
  const logged = new Map<string, string[]>();
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } };
    if (entry.msg && entry.err?.message) {
      logged.set(entry.msg, [...(logged.get(entry.msg) ?? []), entry.err.message]);
    }
  }
  return logged;
}

// Operator pass: with the ACL changed under a running proxy, 503s and /health gave the grant, but
// the log lines of the worker's and the event feed's failures gave only Redis's NOPERM, and
// then BullMQ's queue's line did.
it('logs the grant beside the worker, event feed and queue failures an ACL changed at run time causes', async () => {
  const redis = await redisForTest();
  await aclUser(redis.url, 'limited', ['~proxy:*', '+@all']);
  const target = await targetForTest();
  const proxy = await spawnProxyServer({
    args: [
      '--target-url',
      target.url,
      '--store',
      // Database 1: each connection selects it as it connects, which a denied SELECT fails.
      redis.url.replace('redis://', 'redis://limited:pw@').replace(/\/0$/, '/1'),
      '--log-level',
      'warn',
    ],
  });
  onTestFinished(async () => {
    await proxy.stop('SIGKILL');
  });
  const admin = new Redis(redis.url);
  onTestFinished(() => admin.disconnect());
  // The blocked reads end within 5 s (the feed's BLOCK, BullMQ's drainDelay), and those sent
  // again are denied. Cutting the connections instead raced the reads: BullMQ's worker, its read
  // cut, said only `Connection is closed.`, and then nothing more.
  await admin.call('ACL', 'SETUSER', 'limited', '-xread', '-bzpopmin');
  const grant =
    "Redis user limited lacks a command or key the proxy needs; give it every command on the prefix's keys: ACL SETUSER limited ~proxy:* +@all";
  await vi.waitFor(
    () => {
      const logged = loggedErrors(proxy.output());
      expect(logged.get('task store: reading the event stream')).toContain(
        `NOPERM this user has no permissions to run the 'xread' command: ${grant}`,
      );
      expect(logged.get('task store: running queued tasks (BullMQ worker)')).toContain(
        `NOPERM this user has no permissions to run the 'bzpopmin' command: ${grant}`,
      );
    },
    { timeout: 30_000, interval: 200 },
  );
  // BullMQ's queue tells of its connection's failures only: a SELECT denied as it reconnects.
  await admin.call('ACL', 'SETUSER', 'limited', '-select');
  await admin.call('CLIENT', 'KILL', 'USER', 'limited');
  await vi.waitFor(
    () => {
      expect(loggedErrors(proxy.output()).get('task store: queueing (BullMQ)')).toContain(
        `NOPERM this user has no permissions to run the 'select' command: ${grant}`,
      );
    },
    // ioredis waits longer between reconnections after each failed one.
    { timeout: 25_000, interval: 200 },
  );
}, 120_000);

// Redis pass: a Redis given a password under a running proxy was "cannot reach Redis …
// NOAUTH", in /health and the 503s alike, where a start is told to put the password in the URL.
it('says a Redis that asks for a password under a running proxy wants it in the URL', async () => {
  const redis = await redisForTest();
  const target = await targetForTest();
  const proxy = await spawnProxyServer({
    args: ['--target-url', target.url, '--store', redis.url, '--log-level', 'fatal'],
  });
  onTestFinished(async () => {
    await proxy.stop('SIGKILL');
  });
  const admin = new Redis(redis.url);
  onTestFinished(() => admin.disconnect());
  await admin.call('CONFIG', 'SET', 'requirepass', 'pw');
  await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  const asks = `Redis at ${redis.url} asks for a password, and the URL gives none`;
  await vi.waitFor(
    async () => {
      const health = (await (await fetch(`${proxy.url}/health`)).json()) as {
        store: { message: string | null };
      };
      expect(health.store.message).toContain(asks);
      const refused = await fetch(`${proxy.url}${pathOf(1, 10)}`, { method: 'POST' });
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { message: string }).message).toContain(asks);
    },
    { timeout: 30_000, interval: 250 },
  );
}, 60_000);
