// @ts-check
// The floor for the list reads of scenarios 5b and 5d: a bare node:http server that answers
// every GET with the same bytes, read once from a file (a page the proxy served). Whatever its
// reads' p99 is, no server can do better for a page of that size on this machine and reader.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    page: { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
if (!values.page) throw new Error('page-server needs --page FILE');
const page = await readFile(values.page);
const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': page.length });
  response.end(page);
});
server.listen(Number(values.port), values.host, () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`page-server listening on http://${values.host}:${address.port}`);
});
const stop = () => server.close(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
