import { PassThrough } from 'node:stream';
import { ProxyClient } from 'proxy-client';
import { describe, expect, it } from 'vitest';
import type { CliError } from '../src/cli-error.js';
import { cancelTask } from '../src/commands/cancel.js';
import { cleanup } from '../src/commands/cleanup.js';
import type { CommandContext } from '../src/context.js';
import type { Action } from '../src/options.js';
import { Output } from '../src/output.js';

const URL = 'http://proxy.test';
const TASK_ID = '00000000-0000-4000-8000-00000000f00d';
const TOOK_THE_CONNECTION =
  'the proxy took the connection but did not answer: check that --url (or PROXY_URL) is the proxy and that it is not stuck';

/**
 * A run against a proxy that never answers, without --timeout: the SDK's own time limit (1 ms
 * here, 30 s as the CLI makes the client) ends the call, and the SDK builds its error itself.
 */
function silentProxyRun(action: Action, json = false): CommandContext {
  const neverAnswers: typeof fetch = (input) =>
    new Promise((_, reject) => {
      const { signal } = input instanceof Request ? input : new Request(input);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  const streams = { stdout: new PassThrough(), stderr: new PassThrough(), env: {} };
  return {
    client: new ProxyClient({ baseUrl: URL, timeoutMs: 1, fetch: neverAnswers }),
    output: new Output(streams, { json, color: false }),
    options: { action, url: URL, urlSource: 'flag', json, color: false },
    signal: new AbortController().signal,
    readStdin: () => Promise.reject(new Error('no stdin in this test')),
    stdinIsTerminal: false,
  };
}

async function failureOf(run: Promise<void>): Promise<CliError> {
  return run.then(
    () => expect.unreachable('the call had no answer to succeed with'),
    (error: CliError) => error,
  );
}

// Review: without --timeout, a cancel or cleanup the SDK's own timeout ended said only that the
// proxy took the connection, not that the change may have been made and how to make it again.
describe("withinTimeout: a change the SDK's own timeout cut off", () => {
  it('--cancel: may have reached the proxy, and the command to send it again', async () => {
    const action = { kind: 'cancel', taskId: TASK_ID } as const;
    const error = await failureOf(cancelTask(silentProxyRun(action), action));
    expect(error.exitCode).toBe(3);
    expect(error.code).toBe('proxy_unreachable');
    expect(error.message).toBe(
      `no answer from the proxy at ${URL} within the SDK's own time limit for a request`,
    );
    expect(error.hint).toBe(
      `${TOOK_THE_CONNECTION}; the cancel may have reached the proxy all the same, and sending it again is safe: proxy-cli --url ${URL} --cancel ${TASK_ID}`,
    );
    expect(error.details).toEqual({ task_id: TASK_ID });
    expect(error.cause).toMatchObject({ name: 'ProxyUnreachableError', code: 'response_timeout' });
  });

  it('--cleanup --json: may have run, and the command to run it again', async () => {
    const action = { kind: 'cleanup', maxAgeHours: 48 } as const;
    const error = await failureOf(cleanup(silentProxyRun(action, true), action));
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe(
      `no answer from the proxy at ${URL} within the SDK's own time limit for a request`,
    );
    expect(error.hint).toBe(
      `${TOOK_THE_CONNECTION}; the cleanup may have run all the same, and running it again is harmless: proxy-cli --url ${URL} --cleanup 48 --json`,
    );
  });
});
