import { describe, expect, it } from 'vitest';
import { taskErrorOf, taskErrorOfCutBody } from '../src/upstream/error-codes.js';

const failure = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('the task error of a failed upstream call', () => {
  it("keeps Node's one-line words beside the explanation: the names a certificate lists", () => {
    const error = taskErrorOf(
      failure(
        'ERR_TLS_CERT_ALTNAME_INVALID',
        "Hostname/IP does not match certificate's altnames: Host: target.internal. is not in the cert's altnames: DNS:api.example.com",
      ),
    );
    expect(error.code).toBe('upstream_error');
    expect(error.message).toContain('is for another host name');
    expect(error.message).toContain('DNS:api.example.com');
  });

  it("leaves out words that span lines (OpenSSL's record)", () => {
    const error = taskErrorOf(
      failure(
        'ERR_SSL_WRONG_VERSION_NUMBER',
        'C0B7:error:0A00010B:SSL routines\nwrong version number',
      ),
    );
    expect(error.message).toContain('does not speak TLS');
    expect(error.message).not.toContain('SSL routines');
  });

  it('says the proxy ran out of file descriptors, not the target, and what to raise', () => {
    const error = taskErrorOf(
      failure('EMFILE', 'connect EMFILE 127.0.0.1:43813 - Local (undefined:undefined)'),
    );
    expect(error.code).toBe('upstream_error');
    expect(error.message).toContain('the proxy ran out of file descriptors');
    expect(error.message).toContain('ulimit -n');
  });
});

describe('the task error of a call cut after its status and headers', () => {
  it('says the connection was reset in the middle of the body, and how much had come', () => {
    const error = taskErrorOfCutBody(failure('ECONNRESET', 'read ECONNRESET'), {
      receivedBytes: 5,
      declaredBytes: null,
    });
    expect(error.code).toBe('upstream_reset');
    expect(error.message).toContain(
      "the target reset the connection in the middle of its answer's body, after 5 bytes (read ECONNRESET)",
    );
  });

  it('leaves a failure that is no reset or close as it maps', () => {
    const error = taskErrorOfCutBody(
      new Error('Response does not match the HTTP/1.1 protocol (Invalid character in chunk size)'),
      { receivedBytes: 0, declaredBytes: null },
    );
    expect(error.code).toBe('upstream_error');
    expect(error.message).not.toContain('middle');
  });
});
