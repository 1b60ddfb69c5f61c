import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataBody, ErrorBody, SubmitBody, Task } from 'proxy-client/wire';
import { waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';
import { rawRequest, startProxy, startTarget } from './helper.js';

/** Every store the proxy offers; each test runs on each. */
const STORES = ['memory', 'sqlite'] as const;

async function storeFlags(store: (typeof STORES)[number]): Promise<string[]> {
  if (store === 'memory') return ['--store', 'memory'];
  const dir = await mkdtemp(join(tmpdir(), 'proxy-control-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return ['--store', 'sqlite', '--data-dir', dir];
}

async function proxyOn(store: (typeof STORES)[number], flags: string[] = []) {
  const target = await startTarget();
  const proxy = await startProxy(target.url, {
    listen: true,
    flags: [...(await storeFlags(store)), ...flags],
  });
  const call = async <T>(method: string, path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(proxy.url + path, { method, headers });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as T,
    };
  };
  return { target, proxy, call };
}

describe.each(STORES)('controlling tasks on the %s store', (store) => {
  describe('DELETE /task/:id', () => {
    it('cancels a pending task: it leaves the queue and never reaches the target', async () => {
      const { target, proxy, call } = await proxyOn(store, [
        '--max-concurrent',
        '1',
        '--num-workers',
        '1',
      ]);
      const running = await proxy.submit('/api/long?seconds=30&n=1');
      const queued = await proxy.submit('/api/text?text=queued');
      const after = await proxy.submit('/api/text?text=after');
      await waitFor(() => target.stats().inFlight === 1, { what: 'the first call' });
      const cancelled = await call<DataBody<Task>>('DELETE', `/task/${queued}`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.data).toMatchObject({
        task_id: queued,
        status: 'cancelled',
        started_at: null,
        attempts: 0,
      });
      expect(cancelled.body.data.completed_at).not.toBeNull();
      expect((await proxy.getTask(after)).queue_position).toBe(1);
      await call('DELETE', `/task/${running}`);
      expect((await proxy.finished(after)).status).toBe('completed');
      expect(target.stats().byPath['/api/text']).toBe(1);
    });

    it('cancels a processing task: its call is aborted, the target sees the connection close', async () => {
      const { target, proxy, call } = await proxyOn(store);
      const id = await proxy.submit('/api/long?seconds=30');
      await waitFor(() => target.stats().inFlight === 1, { what: 'the call to start' });
      const answer = await call<DataBody<Task>>('DELETE', `/task/${id}`);
      expect(answer.body.data).toMatchObject({ status: 'cancelled', attempts: 1 });
      await waitFor(() => target.stats().inFlight === 0, {
        what: 'the target to see the call end',
      });
      const stats = (
        await call<DataBody<{ tasks: Record<string, number>; in_flight: number }>>('GET', '/stats')
      ).body.data;
      expect(stats.tasks).toMatchObject({ cancelled: 1, processing: 0 });
      expect(stats.in_flight).toBe(0);
      expect((await proxy.getTask(id)).status).toBe('cancelled');
    });

    it('answers 409 task_finished for a finished task and changes nothing', async () => {
      const { proxy, call } = await proxyOn(store);
      const id = await proxy.submit('/api/text?text=done');
      await proxy.finished(id);
      const answer = await call<ErrorBody>('DELETE', `/task/${id}`);
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ success: false, error: 'task_finished' });
      expect((await proxy.getTask(id)).status).toBe('completed');
      expect(
        (await call<ErrorBody>('DELETE', '/task/00000000-0000-4000-8000-000000000000')).status,
      ).toBe(404);
      expect((await call<ErrorBody>('DELETE', '/task/nope')).body.error).toBe('invalid_task_id');
    });

    it('gives every reader the one outcome of a cancel racing the finish, many times over', async () => {
      const { proxy, call } = await proxyOn(store, [
        '--max-concurrent',
        '50',
        '--num-workers',
        '50',
      ]);
      const ids = await Promise.all(
        Array.from({ length: 100 }, (_, n) =>
          proxy.submit(`/api/text?text=${n}&delay_ms=${n % 10}`),
        ),
      );
      const answers = await Promise.all(
        ids.map(async (id, n) => {
          await new Promise((resolve) => setTimeout(resolve, n % 12));
          return call<DataBody<Task> | ErrorBody>('DELETE', `/task/${id}`);
        }),
      );
      const outcomes = new Set<string>();
      for (const [n, answer] of answers.entries()) {
        const task = await proxy.finished(ids[n] as string);
        outcomes.add(task.status);
        if (answer.status === 200) expect(task.status).toBe('cancelled');
        else {
          expect(answer.status).toBe(409);
          expect(task.status).toBe('completed');
          expect(task.result?.body).toBe(String(n));
        }
      }
      expect(
        [...outcomes].every((status) => status === 'cancelled' || status === 'completed'),
      ).toBe(true);
    });
  });

  describe('POST /task/:id/retry', () => {
    it('submits a finished task again from its stored request, linked both ways', async () => {
      const { target, proxy, call } = await proxyOn(store);
      const original = await proxy.submit('/api/echo?x=1', {
        method: 'PUT',
        body: Buffer.from([0, 1, 2, 250]),
        headers: { 'content-type': 'application/octet-stream', 'x-custom': 'kept' },
      });
      const first = await proxy.finished(original);
      const answer = await call<SubmitBody>('POST', `/task/${original}/retry`);
      expect(answer.status).toBe(202);
      expect(answer.headers.get('location')).toBe(`/task/${answer.body.task_id}`);
      const again = await proxy.finished(answer.body.task_id);
      expect(again).toMatchObject({
        method: 'PUT',
        path: '/api/echo?x=1',
        retry_of: original,
        retried_as: null,
      });
      expect(await proxy.getTask(original)).toMatchObject({
        retried_as: again.task_id,
        retry_of: null,
      });
      const echo = (task: Task) =>
        task.result?.body as { body_base64: string; headers: Record<string, string> };
      expect(echo(again).body_base64).toBe(echo(first).body_base64);
      expect(echo(again).headers['x-custom']).toBe('kept');
      expect(target.stats().byPath['/api/echo']).toBe(2);
    });

    // Review: the run again had no deadline under --max-queue-time and lost the caller's
    // X-Proxy-Timeout, so it waited and ran without the bounds the first run had.
    it('reads the delivery policy again: a fresh deadline, the same timeout and priority', async () => {
      const { proxy, call } = await proxyOn(store, ['--max-queue-time', '60']);
      const original = await proxy.submit('/api/slow?delay_ms=3000', {
        headers: { 'x-proxy-timeout': '0.2', 'x-proxy-priority': 'high' },
      });
      expect(await proxy.finished(original)).toMatchObject({
        status: 'failed',
        error: { code: 'upstream_timeout' },
      });
      const answer = await call<SubmitBody>('POST', `/task/${original}/retry`);
      expect(answer.status).toBe(202);
      const again = await proxy.finished(answer.body.task_id);
      expect(again).toMatchObject({
        status: 'failed',
        error: { code: 'upstream_timeout' },
        priority: 'high',
        retry_of: original,
      });
      expect(Date.parse(again.deadline_at ?? '') - Date.parse(again.created_at)).toBe(60_000);
    });

    it('answers 409 task_not_finished before the task finished, 404 for an unknown one', async () => {
      const { target, proxy, call } = await proxyOn(store);
      const id = await proxy.submit('/api/long?seconds=30');
      await waitFor(() => target.stats().inFlight === 1, { what: 'the call to start' });
      const early = await call<ErrorBody>('POST', `/task/${id}/retry`);
      expect(early.status).toBe(409);
      expect(early.body).toMatchObject({ error: 'task_not_finished' });
      expect(
        (await call<ErrorBody>('POST', '/task/00000000-0000-4000-8000-000000000000/retry')).status,
      ).toBe(404);
    });
  });

  describe('Idempotency-Key', () => {
    it('answers the same task for the same key and request, says so, and calls the target once', async () => {
      const { target, proxy } = await proxyOn(store);
      const send = (body: string, contentType = 'text/plain') =>
        fetch(`${proxy.url}/api/text?text=once`, {
          method: 'POST',
          body,
          headers: { 'idempotency-key': '"order-42"', 'content-type': contentType },
        });
      const first = await send('same');
      const firstBody = (await first.json()) as SubmitBody;
      expect(first.status).toBe(202);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      await proxy.finished(firstBody.task_id);
      // A media type is compared ignoring case (RFC 9110): the same request.
      const again = await send('same', 'Text/Plain');
      expect(again.status).toBe(202);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await again.json()).toMatchObject({ task_id: firstBody.task_id, status: 'completed' });
      const other = await send('different');
      expect(other.status).toBe(422);
      expect(await other.json()).toMatchObject({ error: 'idempotency_key_reused' });
      expect(target.stats().byPath['/api/text']).toBe(1);
    });

    // A replay of a finished task with `Prefer: wait=0` answered 202, as if it were still to
    // finish; the task is finished within 0 s, so the answer is wait=N's 200.
    it('answers a replay of a finished task with Prefer: wait=0 as wait=N does: 200 with the task', async () => {
      const { target, proxy } = await proxyOn(store);
      const send = (path: string, prefer?: string) =>
        fetch(proxy.url + path, {
          method: 'POST',
          headers: { 'idempotency-key': path, ...(prefer === undefined ? {} : { prefer }) },
        });
      const first = (await (await send('/api/text?text=done')).json()) as SubmitBody;
      await proxy.finished(first.task_id);
      for (const prefer of ['wait=0', 'wait=5']) {
        const replay = await send('/api/text?text=done', prefer);
        expect(replay.status, prefer).toBe(200);
        expect(replay.headers.get('preference-applied')).toBe(prefer);
        expect(replay.headers.get('idempotent-replayed')).toBe('true');
        expect(replay.headers.get('location')).toBe(`/task/${first.task_id}`);
        expect(await replay.json()).toMatchObject({
          success: true,
          data: { task_id: first.task_id, status: 'completed', result: { body: 'done' } },
        });
      }
      const plain = await send('/api/text?text=done');
      expect(plain.status).toBe(202);
      expect(plain.headers.get('preference-applied')).toBeNull();
      expect(await plain.json()).toMatchObject({ task_id: first.task_id, status: 'completed' });
      expect(target.stats().byPath['/api/text']).toBe(1);
      // Not finished: the usual 202, with the task's status now.
      const running = (await (await send('/api/long?seconds=30')).json()) as SubmitBody;
      await waitFor(() => target.stats().inFlight === 1, { what: 'the call to start' });
      const early = await send('/api/long?seconds=30', 'wait=0');
      expect(early.status).toBe(202);
      expect(early.headers.get('preference-applied')).toBeNull();
      expect(await early.json()).toMatchObject({ task_id: running.task_id, status: 'processing' });
    });

    it('names what differs from the request a reused key was first used with', async () => {
      const { proxy } = await proxyOn(store);
      const send = (method: string, path: string, body: string) =>
        fetch(proxy.url + path, { method, body, headers: { 'idempotency-key': 'named-1' } });
      const first = (await (await send('POST', '/api/text?text=a', 'one')).json()) as SubmitBody;
      const otherMethod = await send('PUT', '/api/text?text=a', 'one');
      expect(otherMethod.status).toBe(422);
      expect(((await otherMethod.json()) as ErrorBody).message).toBe(
        `This Idempotency-Key was used for task ${first.task_id} with another request (POST /api/text?text=a, not PUT /api/text?text=a); use a new key for a new request`,
      );
      const otherBody = await send('POST', '/api/text?text=a', 'two');
      expect(((await otherBody.json()) as ErrorBody).message).toContain(
        '(the same POST /api/text?text=a with another body or Content-Type)',
      );
    });

    it('creates exactly one task for a concurrent burst with one key', async () => {
      const { target, proxy } = await proxyOn(store);
      const answers = await Promise.all(
        Array.from({ length: 50 }, () =>
          fetch(`${proxy.url}/api/text?text=burst`, {
            method: 'POST',
            headers: { 'idempotency-key': 'burst-1' },
          }).then(async (response) => ({
            status: response.status,
            body: (await response.json()) as SubmitBody,
          })),
        ),
      );
      expect(answers.every((answer) => answer.status === 202)).toBe(true);
      const ids = new Set(answers.map((answer) => answer.body.task_id));
      expect(ids.size).toBe(1);
      await proxy.finished([...ids][0] as string);
      expect(target.stats().byPath['/api/text']).toBe(1);
    });

    it('refuses a malformed key with 400 naming the header, and never forwards the key', async () => {
      const { proxy } = await proxyOn(store);
      const bad = await fetch(`${proxy.url}/api/echo`, {
        method: 'POST',
        headers: { 'idempotency-key': 'x'.repeat(300) },
      });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({
        error: 'bad_request',
        message: expect.stringContaining('Idempotency-Key'),
      });
      const ok = await proxy.submit('/api/echo', {
        headers: { 'idempotency-key': 'k', prefer: 'respond-async', 'x-proxy-anything': '1' },
      });
      const echoed = (await proxy.finished(ok)).result?.body as { headers: Record<string, string> };
      expect(Object.keys(echoed.headers)).not.toContain('idempotency-key');
      expect(Object.keys(echoed.headers)).not.toContain('prefer');
      expect(Object.keys(echoed.headers)).not.toContain('x-proxy-anything');
    });
  });

  it('forwards the preferences meant for the target, without wait and respond-async', async () => {
    // PostgREST and OData read `return=representation`, `count=exact`: the proxy took them all.
    const { proxy } = await proxyOn(store);
    const ask = async (prefer: string) => {
      const id = await proxy.submit('/api/echo', { headers: { prefer } });
      const echoed = (await proxy.finished(id)).result?.body as {
        headers: Record<string, string>;
      };
      return echoed.headers.prefer;
    };
    expect(await ask('return=representation, wait=0, count=exact')).toBe(
      'return=representation, count=exact',
    );
    expect(await ask('respond-async; foo=1, handling=lenient')).toBe('handling=lenient');
    expect(await ask('Wait=0, RESPOND-ASYNC')).toBeUndefined();
    // A quoted string may hold a comma; a value with nothing of the proxy's goes as sent.
    expect(await ask('foo="a,b", wait=0')).toBe('foo="a,b"');
    expect(await ask('foo="x,wait=2"')).toBe('foo="x,wait=2"');
    expect(await ask('return=minimal,,  count=exact')).toBe('return=minimal,,  count=exact');
  });

  describe('Prefer: wait', () => {
    it('answers 200 with the finished task when it finishes in time', async () => {
      const { proxy } = await proxyOn(store);
      const response = await fetch(`${proxy.url}/api/text?text=quick&delay_ms=50`, {
        method: 'POST',
        headers: { prefer: 'wait=10' },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('preference-applied')).toBe('wait=10');
      const body = (await response.json()) as DataBody<Task>;
      expect(body.data).toMatchObject({ status: 'completed', result: { body: 'quick' } });
      expect(response.headers.get('location')).toBe(`/task/${body.data.task_id}`);
    });

    it('answers the usual 202 when it does not, and takes respond-async as the default', async () => {
      const { proxy } = await proxyOn(store);
      const slow = await fetch(`${proxy.url}/api/text?text=slow&delay_ms=3000`, {
        method: 'POST',
        headers: { prefer: 'wait=1' },
      });
      expect(slow.status).toBe(202);
      expect(slow.headers.get('preference-applied')).toBeNull();
      expect(((await slow.json()) as SubmitBody).status).toBe('processing');
      const async = await fetch(`${proxy.url}/api/text`, {
        method: 'POST',
        headers: { prefer: 'respond-async' },
      });
      expect(async.status).toBe(202);
      expect(async.headers.get('preference-applied')).toBe('respond-async');
    });
  });

  describe('GET /task/:id/result', () => {
    it('replays the answer as the target sent it: status, headers, bytes', async () => {
      const { proxy } = await proxyOn(store);
      const id = await proxy.submit('/api/binary?bytes=300');
      const response = await fetch(`${proxy.url}/task/${id}/result?wait=10`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/octet-stream');
      expect(response.headers.get('x-proxy-task-id')).toBe(id);
      // Served from the proxy's origin: no script in an answer runs there.
      expect(response.headers.get('content-security-policy')).toBe('sandbox');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(bytes.length).toBe(300);
      expect(bytes.every((byte, i) => byte === i % 256)).toBe(true);
      const failed = await proxy.submit('/api/fail?status=503');
      await proxy.finished(failed);
      const replay = await fetch(`${proxy.url}/task/${failed}/result`);
      expect(replay.status).toBe(503);
      expect(await replay.json()).toEqual({ error: 'failed on purpose', status: 503 });
    });

    it('replays a status code past 599 as the target sent it', async () => {
      const { proxy } = await proxyOn(store);
      const id = await proxy.submit('/api/flaky?plan=600');
      expect((await proxy.finished(id)).result?.status_code).toBe(600);
      const replay = await rawRequest(proxy.url, `GET /task/${id}/result HTTP/1.1\r\nHost: x`);
      expect(replay.status).toBe(600);
      expect(JSON.parse(replay.body)).toEqual({ call: 1, key: '', step: '600' });
    });

    it('answers 409 before the task finished and 404 no_result when it finished without an answer', async () => {
      const { proxy } = await proxyOn(store);
      const slow = await proxy.submit('/api/long?seconds=30');
      const early = await fetch(`${proxy.url}/task/${slow}/result`);
      expect(early.status).toBe(409);
      expect(await early.json()).toMatchObject({ error: 'task_not_finished' });
      await fetch(`${proxy.url}/task/${slow}`, { method: 'DELETE' });
      const none = await fetch(`${proxy.url}/task/${slow}/result`);
      expect(none.status).toBe(404);
      expect(await none.json()).toMatchObject({ error: 'no_result' });
    });
  });
});
