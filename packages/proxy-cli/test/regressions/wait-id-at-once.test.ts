import { describe, expect, it } from 'vitest';
import { spawnCli } from '../e2e/harness.js';
import { startFakeProxy } from '../e2e/hostile-proxy.js';
import { makeTask } from '../fixtures.js';

// `--submit --wait` (and `--retry --wait`) asked the proxy to hold its answer up to 5 s
// (`Prefer: wait`): until then stderr said only "submitting …", and Ctrl-C in that time left no
// task id to resume with. The proxy here holds an answer for as long as a hold is asked (the
// test's length), so the id must come from a submission that asks for none.
const NEW_ID = '7a1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f';
const OLD_ID = '0b6f3a52-5f6e-4d8a-9a43-1f1e2d3c4b5a';

/** A proxy whose new task stays pending, and which never answers a request asking a hold. */
function startHoldingProxy(): Promise<string> {
  const pending = makeTask({
    ...{ task_id: NEW_ID, status: 'pending', started_at: null, completed_at: null },
    ...{ result: null, duration_ms: null, queue_position: 1, attempts: 0 },
  });
  return startFakeProxy((req, res) => {
    req.resume();
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = req.url ?? '/';
    if (url.startsWith('/api/') || (req.method === 'POST' && url.endsWith('/retry'))) {
      if (/\bwait=/.test(String(req.headers.prefer))) return;
      json(202, {
        success: true,
        task_id: NEW_ID,
        status: 'pending',
        data: { task_id: NEW_ID, status_url: `/task/${NEW_ID}` },
      });
    } else if (url.startsWith(`/task/${NEW_ID}`) && req.method === 'GET') {
      json(200, { success: true, data: pending });
    } else json(404, { success: false, error: 'not_found', message: `No route ${url}` });
  });
}

describe('--wait names the new task as soon as the proxy has it', () => {
  it.each([
    ['--submit', ['submit', 'api/slow', '--method', 'GET'], `as task ${NEW_ID}`],
    ['--retry', ['retry', OLD_ID], `task ${OLD_ID} runs again as task ${NEW_ID}`],
  ])(
    '%s --wait: the id before the task ends, and in the hint after Ctrl-C',
    async (_, args, named) => {
      const url = await startHoldingProxy();
      const cli = spawnCli([...args, '--wait', '--url', url]);
      await cli.waitForStderr(new RegExp(named));
      cli.child.kill('SIGINT');
      const run = await cli.done;
      expect(run.code, run.stderr).toBe(130);
      expect(run.stderr).toContain(`error: stopped waiting; task ${NEW_ID} goes on on the proxy`);
      expect(run.stderr).toContain(
        `hint: resume waiting with: proxy-cli --url ${url} --task-id ${NEW_ID} --wait`,
      );
    },
  );
});
