import { describe, expect, it } from 'vitest';
import { ProxyClient } from '../../src/index.js';
import { BASE_URL } from '../helpers/test-server.js';

/**
 * From plain JavaScript, `client.waitForTask(client.submitTask(...))` (an `await` forgotten)
 * threw `taskId must be a task id, got {}`: JSON shows a Promise as an empty object.
 */
const client = new ProxyClient({ baseUrl: BASE_URL });
const pending = () => new Promise<never>(() => {});
// biome-ignore lint/suspicious/noThenProperty: a look-alike Promise is what is checked here.
const thenable = { then: () => {} };

describe('a Promise given where a value is checked', () => {
  it.each([
    ['a Promise', pending()],
    ['a thenable', thenable],
  ])('as a task id (%s) is named as a Promise', async (_, taskId) => {
    const said = 'taskId must be a task id, got a Promise: await submitTask(...) first';
    await expect(client.waitForTask(taskId as unknown as string)).rejects.toThrow(said);
    await expect(client.getTask(taskId as unknown as string)).rejects.toThrow(said);
    await expect(client.cancelTask(taskId as unknown as string)).rejects.toThrow(said);
  });

  it('as a method is named as a Promise', async () => {
    await expect(
      client.submitTask('x', undefined, { method: pending() as unknown as string }),
    ).rejects.toThrow(/^method must be an HTTP method .*, got a Promise: await it first$/);
  });

  it('as an API key is named as a Promise, the key still not shown', () => {
    expect(
      () => new ProxyClient({ baseUrl: BASE_URL, apiKey: thenable as unknown as string }),
    ).toThrow(/^apiKey must be a non-empty string .*, got a Promise: await it first$/);
  });
});
