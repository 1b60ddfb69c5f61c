// @ts-check
// The HAProxy configuration for scenario 2's peer: one frontend, one server with `maxconn`, so
// HAProxy queues what is beyond the cap exactly as the proxy does. One thread, like the
// single-threaded proxy; keep-alive to the target, like the proxy's undici Pool; timeouts long
// enough that the queue never drops a request during a run.

/**
 * @param {{ listenPort: number, targetPort: number, maxconn: number, host?: string }} options
 */
export function haproxyConfig({ listenPort, targetPort, maxconn, host = '127.0.0.1' }) {
  return `global
  nbthread 1
  maxconn 4000

defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout queue 120s

frontend bench
  bind ${host}:${listenPort}
  default_backend target

backend target
  http-reuse always
  server target ${host}:${targetPort} maxconn ${maxconn}
`;
}
