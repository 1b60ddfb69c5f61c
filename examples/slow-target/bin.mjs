#!/usr/bin/env node
// Starts slow-target: `node examples/slow-target/bin.mjs [--port 8000] [--host 127.0.0.1] [--delay-ms 0]`.
import { parseArgs } from 'node:util';
import { startSlowTarget } from './server.mjs';

const usage = 'usage: slow-target [--port N] [--host ADDR] [--delay-ms N]';
let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string', default: '8000' },
      host: { type: 'string', default: '127.0.0.1' },
      'delay-ms': { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  console.error(`slow-target: ${err.message}\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(`${usage}

Endpoints (any method; the /api/ ones wait first for ?delay_ms=N, an x-delay-ms: N
header or "delay_ms": N in a JSON body, else for --delay-ms):
  /api/function1      echoes its JSON body or query as params
  /api/echo           echoes method, url, headers and body (base64)
  /api/fail?status=N  answers with status N (default 500)
  /api/long?seconds=N answers after N seconds (default 120)
  /api/binary?bytes=N answers N bytes of application/octet-stream
  /api/text?text=T    answers text/plain
  /api/size?bytes=N   answers a JSON body of about N bytes
  /api/reset          drops the connection without answering
  /api/flaky?key=K&plan=P
                      the n-th call with key K answers as the n-th step of P,
                      e.g. 503@2,reset,200 (@s adds Retry-After: s)
  /, /health          answers 200 {"status": "ok", ...}, not counted
  /_target/stats      requests, in flight, most in flight at once, per path
  /_target/reset      zeroes those counters`);
  process.exit(0);
}
for (const name of ['port', 'delay-ms']) {
  if (!/^\d+$/.test(values[name])) {
    console.error(`slow-target: --${name} must be a whole number, got '${values[name]}'`);
    process.exit(2);
  }
}
let target;
try {
  target = await startSlowTarget({
    port: Number(values.port),
    host: values.host,
    defaultDelayMs: Number(values['delay-ms']),
  });
} catch (err) {
  // A port already taken (often a slow-target left running) is a usage problem, not a crash:
  // one line that names the fix instead of a stack trace.
  if (err?.syscall !== 'listen') throw err;
  const where = `${values.host.includes(':') ? `[${values.host}]` : values.host}:${values.port}`;
  const why =
    err.code === 'EADDRINUSE' ? 'address in use; choose another --port' : (err.message ?? err.code);
  console.error(`slow-target: cannot listen on ${where}: ${why}`);
  process.exit(1);
}
console.log(`slow-target listening on ${target.url}`);
const stop = () => target.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
