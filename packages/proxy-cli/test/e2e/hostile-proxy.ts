import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';
import { runInTerminal } from './tmux.js';

type Answer = (req: IncomingMessage, res: ServerResponse) => void;

export interface LoopbackServer {
  url: string;
  port: number;
  /** Drops the open connections too: an event stream would otherwise hold the close forever. */
  close(): Promise<void>;
}

/** `answer` listening on 127.0.0.1 at a port the system picks. */
export async function listenOnLoopback(answer: Answer): Promise<LoopbackServer> {
  const server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A fake proxy on 127.0.0.1 answering with `answer`, closed when the test finishes; its URL. */
export async function startFakeProxy(answer: Answer): Promise<string> {
  const liar = await listenOnLoopback(answer);
  onTestFinished(() => {
    void liar.close();
  });
  return liar.url;
}

/** A proxy that refuses every request with a 400 carrying `message`, as the CLI must show it. */
export function startRefusingProxy(message: string): Promise<string> {
  return startFakeProxy((_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ success: false, error: 'bad_request', message }));
  });
}

/**
 * What a hostile proxy (one other than proxy-server, or one in the middle) answers each read
 * with: any text in any field, as JSON that the wire types rightly refuse.
 */
export interface HostileAnswers {
  /** Every read of a task, and a cancel or a retry. */
  task: Record<string, unknown>;
  /** `/tasks`; by default a page holding `task` alone. */
  list?: Record<string, unknown>;
  /** `/stats`; without it `/stats` answers 500, so the watch board counts statuses itself. */
  stats?: Record<string, unknown> | undefined;
  health?: Record<string, unknown>;
  /** The answer to a submission (any `/api/` path), 202. */
  submission?: Record<string, unknown>;
}

/** A fake proxy answering every read with `answers`, and an event stream that stays open. */
export function startHostileProxy(answers: HostileAnswers): Promise<string> {
  const list = answers.list ?? { tasks: [answers.task], total: 1, limit: 20, offset: 0 };
  return startFakeProxy((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://proxy');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (pathname === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': open\n\n');
    } else if (pathname === '/health') json(200, answers.health ?? {});
    else if (pathname === '/stats' && answers.stats === undefined) {
      json(500, { success: false, error: 'internal_error', message: 'no stats' });
    } else if (pathname.startsWith('/api/')) json(202, { success: true, ...answers.submission });
    else {
      const data =
        pathname === '/tasks' ? list : pathname === '/stats' ? answers.stats : answers.task;
      json(200, { success: true, data });
    }
  });
}

/** Runs the CLI in a terminal until it exits: the last screen, `[exit N]` at its foot. */
export function screenAtExit(
  args: string[],
  what: string,
  options?: Parameters<typeof runInTerminal>[1],
): Promise<string> {
  return runInTerminal(args, options).waitForScreen((s) => /\[exit \d+\]/.test(s), what);
}
