import { ProxyUnreachableError } from 'proxy-client';
import { describe, expect, it } from 'vitest';
import { toCliError } from '../src/to-cli-error.js';

/** An unreachable error as the SDK makes it, with fetch's and the socket's errors beneath. */
function unreachable(code: string, message: string): ProxyUnreachableError {
  const socket = Object.assign(new Error(message), { code });
  return new ProxyUnreachableError(
    'https://proxy.test/stats',
    'GET https://proxy.test/stats: could not reach the proxy',
    { method: 'GET', cause: new TypeError('fetch failed', { cause: socket }) },
  );
}

describe('TLS failures', () => {
  it.each([
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'],
    ['CERT_HAS_EXPIRED', 'certificate has expired'],
  ])('%s: the certificate is not trusted, and how to trust it', (code, message) => {
    const error = toCliError(unreachable(code, message), { url: 'https://proxy.test' });
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe(
      `could not reach the proxy at https://proxy.test: its TLS certificate is not trusted here (${code})`,
    );
    expect(error.hint).toMatch(/NODE_EXTRA_CA_CERTS/);
  });

  it('a certificate for another host names that problem', () => {
    const error = toCliError(
      unreachable('ERR_TLS_CERT_ALTNAME_INVALID', 'Hostname/IP does not match'),
      {
        url: 'https://proxy.test',
      },
    );
    expect(error.message).toMatch(/certificate is for another host name/);
  });

  it('an OpenSSL message over several lines comes out on one', () => {
    const error = toCliError(unreachable('ERR_SOMETHING', 'line one\n  line two\n'), {
      url: 'https://proxy.test',
    });
    expect(error.message).toBe(
      'could not reach the proxy at https://proxy.test (line one line two)',
    );
  });
});
