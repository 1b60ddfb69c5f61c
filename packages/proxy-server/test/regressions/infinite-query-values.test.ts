import * as wire from 'proxy-client/wire';
import { describe, expect, it } from 'vitest';
import { startProxy, startTarget } from '../helper.js';

// Issue 16, item 3: Ajv coerced `Infinity` (and `1e400`) to a number that skipped minimum and
// maximum, so `/tasks?limit=Infinity` answered 500 after walking every task, and `?wait=Infinity`
// was taken though the most is 60.

const TASK = '/task/0b7a6a2e-1d6c-4f3e-9b0a-2f4c8d9e1a7b';

describe('every numeric query value is a finite number in range', () => {
  it.each([
    ['GET', '/tasks?limit=Infinity', 'limit'],
    ['GET', '/tasks?limit=-Infinity', 'limit'],
    ['GET', '/tasks?limit=1e400', 'limit'],
    ['GET', '/tasks?limit=NaN', 'limit'],
    ['GET', '/tasks?limit=0', 'limit'],
    ['GET', '/tasks?limit=2.5', 'limit'],
    ['GET', '/tasks?offset=Infinity', 'offset'],
    ['GET', '/tasks?offset=-Infinity', 'offset'],
    ['GET', '/tasks?offset=1e20', 'offset'],
    ['GET', '/tasks?offset=-1', 'offset'],
    ['GET', `${TASK}?wait=Infinity`, 'wait'],
    ['GET', `${TASK}?wait=1e400`, 'wait'],
    ['GET', `${TASK}?wait=-Infinity`, 'wait'],
    ['GET', `${TASK}?wait=61`, 'wait'],
    ['DELETE', '/tasks/cleanup?max_age_hours=Infinity', 'max_age_hours'],
    ['DELETE', '/tasks/cleanup?max_age_hours=-Infinity', 'max_age_hours'],
    ['DELETE', '/tasks/cleanup?max_age_hours=1e400', 'max_age_hours'],
  ])('%s %s: 400 invalid_query naming %s', async (method, path, parameter) => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const response = await fetch(proxy.url + path, { method });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { message: string };
    expect(body).toMatchObject({ success: false, error: 'invalid_query' });
    expect(body.message).toContain(parameter);
  });

  it.each([
    ['GET', '/tasks?limit=1000&offset=9007199254740991', 200],
    ['GET', '/tasks?limit=1&offset=0', 200],
    ['GET', `${TASK}?wait=0`, 404],
    ['DELETE', '/tasks/cleanup?max_age_hours=876000', 200],
  ])('%s %s at the edge of the range: %i', async (method, path, status) => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    expect((await fetch(proxy.url + path, { method })).status).toBe(status);
  });

  it('holds for every numeric query parameter: each has a finite minimum and maximum', () => {
    type Property = { type?: string; minimum?: number; maximum?: number };
    const numeric = Object.entries(wire)
      .filter(([name]) => name.endsWith('QuerySchema'))
      .flatMap(([name, schema]) =>
        Object.entries((schema as { properties: Record<string, Property> }).properties)
          .filter(([, property]) => property.type === 'number' || property.type === 'integer')
          .map(([parameter, property]) => ({ ...property, parameter: `${name}.${parameter}` })),
      );
    expect(numeric.length).toBeGreaterThanOrEqual(4);
    for (const { parameter, minimum, maximum } of numeric) {
      expect(Number.isFinite(minimum), `${parameter} minimum`).toBe(true);
      expect(Number.isFinite(maximum), `${parameter} maximum`).toBe(true);
    }
  });
});
