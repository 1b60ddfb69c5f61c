import { MAX_WAIT_SECONDS } from 'proxy-client/wire';
import { describe, expect, it } from 'vitest';
import { ProxyHttpError } from '../../src/errors.js';
import { idempotencyKeyOf, preferencesOf } from '../../src/routes/submit-headers.js';

describe('idempotencyKeyOf', () => {
  it('reads a bare key and a quoted one as the same key', () => {
    expect(idempotencyKeyOf('order-42', null)).toBe(':order-42');
    expect(idempotencyKeyOf(' "order-42" ', null)).toBe(':order-42');
  });

  it('unescapes \\" and \\\\ inside a quoted key, as RFC 8941 writes them', () => {
    expect(idempotencyKeyOf('"a\\"b"', null)).toBe(':a"b');
    expect(idempotencyKeyOf('"c:\\\\tmp"', null)).toBe(':c:\\tmp');
  });

  it.each([
    ['an unknown escape', '"a\\nb"'],
    ['a bare quote inside', '"a"b"'],
    ['a trailing backslash', '"ab\\"'],
    ['an unterminated string', '"abc'],
    ['an empty string', '""'],
    ['a control character', 'a\tb'],
    ['300 characters', 'x'.repeat(300)],
  ])('refuses %s with a 400 that names the header', (_, header) => {
    expect(() => idempotencyKeyOf(header, null)).toThrow(ProxyHttpError);
    expect(() => idempotencyKeyOf(header, null)).toThrow(/Idempotency-Key/);
  });

  it('refuses the header sent twice', () => {
    expect(() => idempotencyKeyOf(['a', 'b'], null)).toThrow(/one Idempotency-Key/);
  });

  it('scopes the key by the API key, without the API key in clear', () => {
    const one = idempotencyKeyOf('k', 'secret-one');
    const two = idempotencyKeyOf('k', 'secret-two');
    expect(one).not.toBe(two);
    expect(one).not.toContain('secret');
    expect(one?.endsWith(':k')).toBe(true);
  });

  it('is null when the header is absent', () => {
    expect(idempotencyKeyOf(undefined, 'key')).toBeNull();
  });
});

describe('preferencesOf', () => {
  it('reads wait and respond-async from one or several headers, in any order', () => {
    expect(preferencesOf('respond-async, wait=5', 60)).toEqual({ waitS: 5, respondAsync: true });
    expect(preferencesOf(['wait=2', 'respond-async'], 60)).toEqual({
      waitS: 2,
      respondAsync: true,
    });
    expect(preferencesOf(undefined, 60)).toEqual({ waitS: null, respondAsync: false });
  });

  it('reads a wait given as a quoted string, as RFC 7240 allows', () => {
    expect(preferencesOf('wait="7"', 60).waitS).toBe(7);
    expect(preferencesOf('respond-async, wait="2.5"', 60)).toEqual({
      waitS: 2.5,
      respondAsync: true,
    });
    expect(preferencesOf('wait="x"', 60).waitS).toBeNull();
  });

  it('reads a fraction written without a leading or trailing digit, like ?wait=', () => {
    expect(preferencesOf('wait=.5', 60).waitS).toBe(0.5);
    expect(preferencesOf('wait=5.', 60).waitS).toBe(5);
    expect(preferencesOf('wait=.', 60).waitS).toBeNull();
  });

  it('takes the first wait of several, as RFC 7240 asks, across headers too', () => {
    expect(preferencesOf('wait=2, wait=0', 60).waitS).toBe(2);
    expect(preferencesOf(['wait=0', 'wait=9'], 60).waitS).toBe(0);
    expect(preferencesOf('wait=abc, wait=5', 60).waitS).toBe(5);
  });

  it('caps wait at --max-wait, like the waiting read, and ignores what it cannot read', () => {
    expect(preferencesOf('wait=100000', MAX_WAIT_SECONDS).waitS).toBe(MAX_WAIT_SECONDS);
    expect(preferencesOf('wait=30', 25).waitS).toBe(25);
    expect(preferencesOf('wait=2.5', 25).waitS).toBe(2.5);
    expect(preferencesOf('wait=-1, wait=abc, handling=strict', 60)).toEqual({
      waitS: null,
      respondAsync: false,
    });
  });
});
