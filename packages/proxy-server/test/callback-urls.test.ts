import { SUBMIT_HEADERS } from 'proxy-client/wire';
import { describe, expect, it } from 'vitest';
import { TaskPolicies } from '../src/proxy/task-policies.js';
import { configFor } from './helper.js';

const SECRET = `whsec_${Buffer.alloc(32, 42).toString('base64')}`;

/** The policies of a proxy started with `--callback-allow allow`. */
function policiesAllowing(allow: string): TaskPolicies {
  const config = configFor('http://127.0.0.1:9', [
    '--callback-allow',
    allow,
    '--webhook-secret',
    SECRET,
  ]);
  return new TaskPolicies({ delivery: config.delivery, upstreamTimeoutMs: null, apiKey: null });
}

/** The callback URL a submission naming `url` is given, or the refusal's code and message. */
function judge(policies: TaskPolicies, url: string) {
  try {
    return policies.of({ [SUBMIT_HEADERS.callbackUrl]: url }, 0, '127.0.0.1').callbackUrl;
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { code, message };
  }
}

describe('callback URLs judged against --callback-allow', () => {
  // Review: an entry with a Unicode host was refused at start, though its punycode was taken.
  it('takes a Unicode host and its punycode as the same origin, on either side', () => {
    for (const allow of ['https://bücher.example', 'https://xn--bcher-kva.example']) {
      const policies = policiesAllowing(allow);
      expect(judge(policies, 'https://bücher.example/done')).toBe(
        'https://xn--bcher-kva.example/done',
      );
      expect(judge(policies, 'https://XN--BCHER-KVA.example/done')).toBe(
        'https://xn--bcher-kva.example/done',
      );
      expect(judge(policies, 'https://buecher.example/done')).toMatchObject({
        code: 'callback_not_allowed',
      });
    }
    const subdomains = policiesAllowing('https://*.bücher.example');
    expect(judge(subdomains, 'https://hooks.bücher.example/x')).toBe(
      'https://hooks.xn--bcher-kva.example/x',
    );
    expect(judge(subdomains, 'https://bücher.example/x')).toMatchObject({
      code: 'callback_not_allowed',
    });
  });

  it('names why a URL of another scheme, or with credentials, is refused', () => {
    const policies = policiesAllowing('https://hooks.example');
    expect(judge(policies, 'ftp://hooks.example/done')).toEqual({
      code: 'callback_not_allowed',
      message: 'X-Proxy-Callback-Url must be an http:// or https:// URL, got a ftp: one',
    });
    expect(judge(policies, 'https://user:pw@hooks.example/done')).toEqual({
      code: 'callback_not_allowed',
      message:
        'X-Proxy-Callback-Url must not carry credentials (user:password@): the signature is what proves the proxy sent it',
    });
    expect(judge(policies, 'https://other.example/done')).toEqual({
      code: 'callback_not_allowed',
      message: 'X-Proxy-Callback-Url https://other.example is not an origin --callback-allow lists',
    });
  });

  // Header edges: an empty or relative URL got 400 bad_request, where the errors table files
  // "not an http(s) URL" under callback_not_allowed.
  it('refuses an empty or relative URL as callback_not_allowed, saying what it got', () => {
    const policies = policiesAllowing('https://hooks.example');
    expect(judge(policies, '')).toEqual({
      code: 'callback_not_allowed',
      message:
        'X-Proxy-Callback-Url must be an absolute http:// or https:// URL, got an empty value',
    });
    expect(judge(policies, '/done')).toEqual({
      code: 'callback_not_allowed',
      message: "X-Proxy-Callback-Url must be an absolute http:// or https:// URL, got '/done'",
    });
  });

  // Header edges: a #fragment was kept, stored and shown with the task (and so logged), though
  // no delivery sends it: a token put there leaked.
  it('refuses a URL with a #fragment, an empty one too, without echoing it', () => {
    const policies = policiesAllowing('https://hooks.example');
    for (const url of ['https://hooks.example/done#token=s3cret', 'https://hooks.example/done#']) {
      expect(judge(policies, url)).toEqual({
        code: 'callback_not_allowed',
        message:
          'X-Proxy-Callback-Url must not carry a #fragment: it is never sent to the receiver',
      });
    }
    expect(judge(policies, 'https://hooks.example/done?a=%23')).toBe(
      'https://hooks.example/done?a=%23',
    );
  });
});
