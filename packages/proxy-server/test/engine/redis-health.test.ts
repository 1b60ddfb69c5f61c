import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  isStoreUnavailableError,
  type RedisBackend,
  StoreRefusedError,
  type TaskEvent,
} from '../../src/index.js';
import { newTask } from './harness.js';
import { backendReplacing, redisPerFile } from './redis-fixture.js';

const redis = redisPerFile();
const { open } = redis;

let prefixes = 0;

/** A backend whose next removal of finished tasks fails with `error`, as Redis would fail it. */
function backendFailingOnce(error: Error, url = redis.url): RedisBackend {
  let failures = 1;
  return backendReplacing(
    { url, open },
    `health-${process.pid}-${++prefixes}`,
    'removeFinished',
    (removeFinished) =>
      async (...args) => {
        if (failures-- > 0) throw error;
        return removeFinished(...args);
      },
  );
}

describe('RedisBackend: health after a failure', () => {
  it('is degraded after Redis did not answer, and well again once a read goes through', async () => {
    const backend = backendFailingOnce(new Error('Command timed out'));
    await backend.open();
    await expect(backend.removeFinished(Date.now())).rejects.toThrow(
      `the task store failed removing finished tasks: Redis at ${redis.url} did not answer within 3000 ms`,
    );
    expect((await backend.health()).available).toBe(false);
    await backend.get('00000000-0000-4000-8000-000000000000');
    expect(await backend.health()).toEqual({ available: true, message: null });
  });

  it('stays degraded after a write Redis refused until a write goes through', async () => {
    const backend = backendFailingOnce(
      new Error("OOM command not allowed when used memory > 'maxmemory'."),
    );
    await backend.open();
    await expect(backend.removeFinished(Date.now())).rejects.toThrow(/OOM command not allowed/);
    await backend.get('00000000-0000-4000-8000-000000000000');
    expect(await backend.health()).toMatchObject({ available: false });
    await backend.removeFinished(Date.now());
    expect(await backend.health()).toEqual({ available: true, message: null });
  });
});

describe('RedisBackend: refused at open', () => {
  it('a database the server does not have, rather than database 0', async () => {
    const url = redis.url.replace(/\/0$/, '/16');
    const backend = backendFailingOnce(new Error('unused'), url);
    const refusal = await backend.open().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(StoreRefusedError);
    expect((refusal as Error).message).toBe(
      `Redis at ${url} has no database 16 (ERR DB index is out of range); its databases are numbered from 0 to its \`databases\` setting less one (16 by default)`,
    );
  });
});

describe('RedisBackend: a database that cannot be selected for another reason', () => {
  it('is refused for the ACL (exit 2 at start), not for a missing database', async () => {
    const admin = new Redis(redis.url);
    onTestFinished(() => admin.disconnect());
    await admin.call('ACL', 'SETUSER', 'noselect', 'on', '>pw', '~*', '&*', '+@all', '-select');
    const url = redis.url.replace('redis://', 'redis://noselect:pw@').replace(/\/0$/, '/3');
    const refusal = await backendFailingOnce(new Error('unused'), url)
      .open()
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(StoreRefusedError);
    expect((refusal as Error).message).toMatch(
      /refuses user noselect the SELECT command \(NOPERM .*'select'.*\).*ACL SETUSER noselect /,
    );
    expect((refusal as Error).message).not.toMatch(/has no database/);
  });
});

describe('RedisBackend: resuming events', () => {
  it('takes an id over a minute ahead of the clock for made up, and one just ahead for not read yet', async () => {
    const backend = backendFailingOnce(new Error('unused'));
    await backend.open();
    const seen: TaskEvent[] = [];
    const first = backend.subscribe((event) => seen.push(event), { resumable: true });
    await backend.admit(newTask(Date.now()));
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    first.close();

    const madeUp: TaskEvent[] = [];
    const resumedMadeUp = backend.subscribe((event) => madeUp.push(event), {
      after: '99999999999999-0',
    });
    expect(resumedMadeUp.complete).toBe(false);
    // Hostile pass: an id an hour ahead was taken, and the stream said nothing for an hour.
    const hourAhead = backend.subscribe(() => {}, { after: `${Date.now() + 3_600_000}-0` });
    expect(hourAhead.complete).toBe(false);
    hourAhead.close();
    // An event another instance may have written, a moment after the newest read here.
    const [ms, seq] = String(seen[0]?.id).split('-').map(Number) as [number, number];
    const ahead: TaskEvent[] = [];
    const resumedAhead = backend.subscribe((event) => ahead.push(event), {
      after: `${ms}-${seq + 1}`,
    });
    expect(resumedAhead.complete).toBe(true);

    const next = await backend.admit(newTask(Date.now()));
    await vi.waitFor(() => expect(madeUp.map((event) => event.type)).toEqual(['created']));
    expect(madeUp[0]).toMatchObject({ task: { id: next.ok && next.taskId } });
    resumedMadeUp.close();
    resumedAhead.close();
  });
});

// Operator pass: a Redis whose ACL user lacks what the proxy runs answered with Redis's words
// alone (NOPERM ... 'eval'; a script's "can't run this command"), and a full Redis with
// "OOM command not allowed": each names the fault, not what to do about it.
describe('RedisBackend: a Redis that refuses what the proxy asks', () => {
  const aclUser = async (name: string, ...rules: string[]): Promise<string> => {
    const admin = new Redis(redis.url);
    onTestFinished(async () => {
      await admin.call('ACL', 'DELUSER', name);
      admin.disconnect();
    });
    await admin.call('ACL', 'SETUSER', name, 'on', '>pw', '&*', ...rules);
    return redis.url.replace('redis://', `redis://${name}:pw@`);
  };

  it('at open, for an ACL user without EVAL, refuses it naming the user, the command and the grant', async () => {
    const url = await aclUser('noeval', '~*', '+@all', '-eval', '-evalsha');
    const backend = backendFailingOnce(new Error('unused'), url);
    const refusal = await backend.open().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(StoreRefusedError);
    expect((refusal as Error).message).toMatch(
      /refuses user noeval the EVAL command \(NOPERM .*'eval'.*\); the proxy needs EVAL and EVALSHA .* all on keys under health-\d+-\d+: and no channels: ACL SETUSER noeval ~health-\d+-\d+:\* \+@all$/,
    );
  });

  it('at open, for an ACL user whose keys are another prefix, refuses it naming the keys', async () => {
    const url = await aclUser('otherkeys', '~other:*', '+@all');
    const refusal = await backendFailingOnce(new Error('unused'), url)
      .open()
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(StoreRefusedError);
    expect((refusal as Error).message).toMatch(
      /refuses user otherkeys a key under health-\d+-\d+: \(as it ran [A-Z]+\), so its key patterns do not cover health-\d+-\d+:\* \(NOPERM .*keys.*\);.*ACL SETUSER otherkeys ~health-\d+-\d+:\* \+@all$/,
    );
  });

  it("on a submission, for a user without XADD, which the proxy's scripts run", async () => {
    const url = await aclUser('noxadd', '~*', '+@all', '-xadd');
    const backend = backendFailingOnce(new Error('unused'), url);
    await backend.open();
    const refusal = await backend.admit(newTask(Date.now())).catch((error: unknown) => error);
    expect((refusal as Error).message).toMatch(
      /can't run this command.*: Redis user noxadd lacks a command or key the proxy needs/,
    );
    expect((await backend.health()).message).toMatch(/ACL SETUSER noxadd /);
  });

  // Review: a script touching a key the ACL denies says "can't access at least one of the keys",
  // which was passed on without the remedy.
  it('on a submission, for a user whose key pattern was changed to another prefix while running', async () => {
    const url = await aclUser('movedkeys', '~*', '+@all');
    const backend = backendFailingOnce(new Error('unused'), url);
    await backend.open();
    const admin = new Redis(redis.url);
    onTestFinished(() => admin.disconnect());
    await admin.call('ACL', 'SETUSER', 'movedkeys', 'resetkeys', '~other:*');
    const refusal = await backend.admit(newTask(Date.now())).catch((error: unknown) => error);
    expect(isStoreUnavailableError(refusal)).toBe(true);
    expect((refusal as Error).message).toMatch(
      /: Redis user movedkeys lacks a command or key the proxy needs; .*ACL SETUSER movedkeys ~health-\d+-\d+:\* \+@all$/,
    );
  });

  it('on a submission to a full Redis, says what makes room', async () => {
    const backend = backendFailingOnce(new Error('unused'));
    await backend.open();
    const admin = new Redis(redis.url);
    onTestFinished(async () => {
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
    });
    await admin.config('SET', 'maxmemory', '1');
    const refusal = await backend.admit(newTask(Date.now())).catch((error: unknown) => error);
    expect((refusal as Error).message).toMatch(
      /OOM command not allowed.*: Redis is at its maxmemory; raise it, or keep fewer finished tasks \(--retention, --max-tasks, DELETE \/tasks\/cleanup\)$/,
    );
  });
});
