import { maxHeaderSize } from 'node:http';
import type { ErrorCode } from 'proxy-client/wire';

/** What Node's HTTP parser tells of a request it refused (`clientError`). */
export interface ParseError extends Error {
  code?: string;
  /** llhttp's own words, e.g. "Invalid header value char". */
  reason?: string;
  /** The bytes read so far: a Buffer from Node, whatever Fastify's type says. */
  rawPacket?: unknown;
  bytesParsed?: number;
}

/** The part of the request each parser code is about, for people who never read llhttp. */
const EXPLAINED: Record<string, string> = {
  HPE_INVALID_URL:
    'the path has a character HTTP does not allow (a tab, a control character or a byte beyond ASCII): percent-encode it',
  HPE_INVALID_METHOD:
    'the method is not one the HTTP parser reads (or TLS was sent to this plain-HTTP port)',
  HPE_INVALID_VERSION:
    'the version is not HTTP/1.0 or HTTP/1.1, or the request line does not end in CRLF',
  HPE_INVALID_CONTENT_LENGTH: 'Content-Length is not a whole number of bytes',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'Content-Length is sent more than once',
  HPE_INVALID_TRANSFER_ENCODING: 'Transfer-Encoding must end in chunked',
  HPE_INVALID_HEADER_TOKEN:
    'a header line is malformed: no name before its colon, or a character HTTP does not allow',
  HPE_INVALID_CHUNK_SIZE: 'a chunk of the body does not start with its size in hexadecimal',
  HPE_PAUSED_H2_UPGRADE: 'HTTP/2 without TLS is not served: send HTTP/1.1',
  HPE_CR_EXPECTED: 'a line does not end in CRLF',
  HPE_LF_EXPECTED: 'a line does not end in CRLF',
};

/**
 * HPE_INVALID_URL when the bad byte comes after the `?`. curl percent-encodes a path's UTF-8
 * but sends a query's as typed, so this is the one a curl user meets; its flag is the way out.
 */
const IN_QUERY =
  "the query string has a character HTTP does not allow (a tab, a control character or a byte beyond ASCII): percent-encode it (curl -G --data-urlencode 'name=value' does)";

/** llhttp's reasons that one code covers several of: each said apart. */
const BY_REASON: Record<string, string> = {
  'Content-Length overflow': 'Content-Length is a number too large to read',
  "Content-Length can't be present with Transfer-Encoding":
    'Content-Length and Transfer-Encoding are both sent: send one',
  "Transfer-Encoding can't be present with Content-Length":
    'Content-Length and Transfer-Encoding are both sent: send one',
  'Invalid `Transfer-Encoding` header value':
    'Transfer-Encoding names chunked more than once, or a coding after it',
};

const FOLDED = 'Unexpected whitespace after header value';

/** llhttp's reasons within a header line, said of the header. */
const IN_HEADER: Record<string, string> = {
  'Invalid header token':
    'has a character a header name cannot have (a space, before the colon too)',
  'Invalid header value char': 'has a control character in its value',
  [FOLDED]: 'goes on to the next line (obsolete line folding)',
};

/** The answer to a request the parser refused: its code; what was wrong, then llhttp's code. */
export function parseRefusal(error: ParseError): { code: ErrorCode; message: string } {
  // Node counts the request line and the headers together and reports either passing the limit
  // with the same code and reason; rawPacket holds only the chunk it stopped in. A URL too long
  // cannot be told apart, so it gets 431 too, never 414.
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return {
      code: 'headers_too_large',
      message: `The request line and headers are over ${maxHeaderSize / 1024} KiB, the most Node reads: send shorter ones, or start the proxy with NODE_OPTIONS=--max-http-header-size=<bytes> to raise it (HPE_HEADER_OVERFLOW)`,
    };
  }
  return {
    code: 'bad_request',
    message: `Malformed HTTP request: ${explanation(error)} (${error.code ?? 'parse error'})`,
  };
}

function explanation(error: ParseError): string {
  const inHeader = IN_HEADER[error.reason ?? ''];
  const header = inHeader === undefined ? undefined : headerName(error);
  if (inHeader !== undefined && header !== undefined) return `header '${header}' ${inHeader}`;
  if (error.code === 'HPE_INVALID_URL' && stoppedInQuery(error)) return IN_QUERY;
  if (error.code === 'HPE_INVALID_URL' && targetWithoutSlash(error)) {
    return "the path does not start with / (the request line is 'METHOD /path HTTP/1.1')";
  }
  if (error.code === 'HPE_INVALID_CONSTANT' && error.reason?.startsWith('Expected HTTP/')) {
    return "the request line is not 'METHOD /path HTTP/1.1' (a space in the path? write it %20)";
  }
  return (
    BY_REASON[error.reason ?? ''] ??
    EXPLAINED[error.code ?? ''] ??
    error.reason?.toLowerCase() ??
    'parse error'
  );
}

/**
 * The name of the header the parser stopped in, as sent (up to its colon), shown printable and
 * cut short; none for the request line or a line without a name. A folded value is found at
 * the start of the next line: then the header is the line before.
 */
function headerName({ rawPacket, bytesParsed, reason }: ParseError): string | undefined {
  if (!Buffer.isBuffer(rawPacket) || bytesParsed === undefined) return undefined;
  let before = rawPacket.subarray(0, bytesParsed).toString('latin1');
  if (reason === FOLDED) before = before.replace(/\r?\n$/, '');
  const lineStart = before.lastIndexOf('\n') + 1;
  if (lineStart === 0) return undefined;
  const line = rawPacket.subarray(lineStart).toString('latin1');
  const name = (line.split(/[:\r\n]/, 1)[0] ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
  return name === '' ? undefined : name;
}

/** Whether the parser stopped after a `?` of the request line: in the query string. */
function stoppedInQuery({ rawPacket, bytesParsed }: ParseError): boolean {
  if (!Buffer.isBuffer(rawPacket) || bytesParsed === undefined) return false;
  const read = rawPacket.subarray(0, bytesParsed).toString('latin1');
  return !read.includes('\n') && read.includes('?');
}

/**
 * Whether the request line's target is neither a path (`/…`) nor an absolute URL: `GET api/x`,
 * which llhttp refuses under one code with the invalid characters, and with reasons of its own
 * that depend on the first bytes.
 */
function targetWithoutSlash({ rawPacket }: ParseError): boolean {
  if (!Buffer.isBuffer(rawPacket)) return false;
  const line = rawPacket.toString('latin1').split(/\r?\n/, 1)[0] ?? '';
  const target = line.split(' ')[1] ?? '';
  return target !== '' && !target.startsWith('/') && !/^[a-z][a-z\d+.-]*:\/\//i.test(target);
}
