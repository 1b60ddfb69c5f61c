import { type ClientRequest, type IncomingMessage, request, type ServerResponse } from 'node:http';

/**
 * Sends a request on to the server at `upstream` and its answer back, as a gateway in front of
 * the proxy does; `onAnswer` hears the answer come. The caller handles the forwarded request's
 * errors (what a gateway does when the proxy is gone is what a test is about).
 */
export function relay(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  upstream: string,
  onAnswer: () => void = () => {},
): ClientRequest {
  const { hostname, port } = new URL(upstream);
  const forwarded = request(
    {
      host: hostname,
      port,
      method: incoming.method,
      path: incoming.url,
      headers: incoming.headers,
    },
    (answer) => {
      onAnswer();
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    },
  );
  incoming.pipe(forwarded);
  return forwarded;
}
