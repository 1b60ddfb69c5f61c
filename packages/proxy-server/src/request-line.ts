import type { IncomingMessage } from 'node:http';

/**
 * Why a request line Node's parser let through is refused, or undefined when it is not. llhttp
 * reads `HTTP/0.9` and `HTTP/2.0` (it refuses 1.2 or 3.0): HTTP/0.9 had no headers and HTTP/2 is
 * never sent as text, so how such a request is framed is a guess the proxy does not make.
 */
export function requestLineRefusal({
  httpVersion,
  method,
  url,
}: IncomingMessage): string | undefined {
  if (httpVersion !== '1.0' && httpVersion !== '1.1') {
    return `Malformed HTTP request: the version is not HTTP/1.0 or HTTP/1.1 (HTTP/${httpVersion} was sent)`;
  }
  // The router would take `*` for `/` (`GET *` read the service description).
  if (url === '*' && method !== 'OPTIONS') {
    return `${method} *: the request target "*" (asterisk-form) is for OPTIONS only; send a path such as /`;
  }
  return undefined;
}

/** `OPTIONS *`: a question about the server as a whole (RFC 9110 §9.3.7), no route's. */
export function asksAboutServer({ method, url }: IncomingMessage): boolean {
  return method === 'OPTIONS' && url === '*';
}
