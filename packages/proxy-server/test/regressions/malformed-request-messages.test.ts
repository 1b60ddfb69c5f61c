import { describe, expect, it } from 'vitest';
import { rawRequest, startProxy, startTarget } from '../helper.js';

// Hostile-input pass: every request Node's parser refuses got "Malformed HTTP request
// (HPE_INVALID_HEADER_TOKEN)" and the like, which names neither the part that was wrong nor the
// header; a space in a path read as HPE_INVALID_CONSTANT. The code stays, for searches.

describe('a request the HTTP parser refuses', () => {
  it.each([
    [
      'a space in a header name',
      'POST /api/x HTTP/1.1\r\nHost: x\r\nX Tenant: a\r\nContent-Length: 0',
      "Malformed HTTP request: header 'X Tenant' has a character a header name cannot have (a space, before the colon too) (HPE_INVALID_HEADER_TOKEN)",
    ],
    [
      'a control character in a header value',
      'POST /api/x HTTP/1.1\r\nHost: x\r\nX-Tenant: a\x01b\r\nContent-Length: 0',
      "Malformed HTTP request: header 'X-Tenant' has a control character in its value (HPE_INVALID_HEADER_TOKEN)",
    ],
    [
      'a folded header value',
      'POST /api/x HTTP/1.1\r\nHost: x\r\nX-Tenant: a\r\n  b\r\nContent-Length: 0',
      "Malformed HTTP request: header 'X-Tenant' goes on to the next line (obsolete line folding) (HPE_INVALID_HEADER_TOKEN)",
    ],
    [
      'a header line without a name',
      'POST /api/x HTTP/1.1\r\nHost: x\r\n: nameless\r\nContent-Length: 0',
      'Malformed HTTP request: a header line is malformed: no name before its colon, or a character HTTP does not allow (HPE_INVALID_HEADER_TOKEN)',
    ],
    [
      'a space in the path',
      'POST /api/two words HTTP/1.1\r\nHost: x\r\nContent-Length: 0',
      "Malformed HTTP request: the request line is not 'METHOD /path HTTP/1.1' (a space in the path? write it %20) (HPE_INVALID_CONSTANT)",
    ],
    [
      'a byte beyond ASCII in the path',
      'POST /api/caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\nContent-Length: 0',
      'Malformed HTTP request: the path has a character HTTP does not allow (a tab, a control character or a byte beyond ASCII): percent-encode it (HPE_INVALID_URL)',
    ],
    // Hostile pass: a path without its leading slash was said to hold a character HTTP does
    // not allow, which it did not.
    [
      'a path without its leading slash',
      'GET api/x HTTP/1.1\r\nHost: x',
      "Malformed HTTP request: the path does not start with / (the request line is 'METHOD /path HTTP/1.1') (HPE_INVALID_URL)",
    ],
    [
      'a query string alone for a path',
      'GET ?x=1 HTTP/1.1\r\nHost: x',
      "Malformed HTTP request: the path does not start with / (the request line is 'METHOD /path HTTP/1.1') (HPE_INVALID_URL)",
    ],
    // First-hour pass: curl percent-encodes a path's UTF-8 but sends a query's raw, and the
    // answer then pointed at the path, which was fine.
    [
      'a byte beyond ASCII in the query string',
      'GET /api/echo?city=K\xc3\xb6ln HTTP/1.1\r\nHost: x',
      "Malformed HTTP request: the query string has a character HTTP does not allow (a tab, a control character or a byte beyond ASCII): percent-encode it (curl -G --data-urlencode 'name=value' does) (HPE_INVALID_URL)",
    ],
    [
      'a Content-Length that is no number',
      'POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: ten',
      'Malformed HTTP request: Content-Length is not a whole number of bytes (HPE_INVALID_CONTENT_LENGTH)',
    ],
    // Hostile-input pass: these said the number was no whole one, or that chunked came last.
    [
      'a Content-Length too large to read',
      'POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999',
      'Malformed HTTP request: Content-Length is a number too large to read (HPE_INVALID_CONTENT_LENGTH)',
    ],
    [
      'Content-Length beside Transfer-Encoding',
      'POST /api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3',
      'Malformed HTTP request: Content-Length and Transfer-Encoding are both sent: send one (HPE_INVALID_CONTENT_LENGTH)',
    ],
    [
      'Transfer-Encoding after Content-Length',
      'POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked',
      'Malformed HTTP request: Content-Length and Transfer-Encoding are both sent: send one (HPE_INVALID_TRANSFER_ENCODING)',
    ],
    [
      'chunked twice',
      'POST /api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked',
      'Malformed HTTP request: Transfer-Encoding names chunked more than once, or a coding after it (HPE_INVALID_TRANSFER_ENCODING)',
    ],
  ])('%s is named', async (_what, head, message) => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const answer = await rawRequest(proxy.url, head);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ success: false, error: 'bad_request', message });
  });
});
