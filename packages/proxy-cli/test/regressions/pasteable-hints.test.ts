import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from '../e2e/harness.js';
import { screenAtExit, startHostileProxy } from '../e2e/hostile-proxy.js';
import { makeTask } from '../fixtures.js';

// A hint's command line naming a task id with a character a terminal acts on or hides showed
// that character escaped (`--task-id '7f3c\u202e9a1b'`): pasted, the command asked for a task
// whose id holds a backslash, which no proxy had. Such an id is now written `$'…'`, which shows
// the same on a terminal and piped, and which bash reads back as the id.
const HOSTILE_ID = '7f3c\u202e9a1b\u001b';
const WORD = "$'7f3c\\u202e9a1b\\x1b'";

function startLiar(): Promise<string> {
  // A status the CLI does not know: a wait on the new task fails at once with a hint.
  const task = { ...makeTask({ task_id: HOSTILE_ID, result: null }), status: 'ready' };
  return startHostileProxy({ task, submission: { task_id: HOSTILE_ID, status: 'pending' } });
}

/** What bash makes of `word`, a shell word as a hint writes it. */
function bashReads(word: string): string {
  return execFileSync('bash', ['-c', `printf %s ${word}`], { encoding: 'utf8' });
}

describe('a hint naming an id a terminal cannot show', () => {
  it("retry's follow-up command pastes back as the id, on a terminal and piped", async () => {
    const url = await startLiar();
    const screen = await screenAtExit(['retry', 'some-id', '--url', url], 'the retry');
    expect(screen).toContain('[exit 0]');
    expect(screen).toContain(`--task-id ${WORD} --wait`);
    const piped = await runCli(['retry', 'some-id', '--url', url]);
    expect(piped.stderr).toContain(`--task-id ${WORD} --wait`);
    expect(bashReads(WORD)).toBe(HOSTILE_ID);
  });

  it("a failed wait's hint pastes back as the id", async () => {
    const url = await startLiar();
    const screen = await screenAtExit(['submit', 'api/x', '--wait', '--url', url], 'the error');
    expect(screen).toContain('error: ');
    expect(screen).toContain(`--task-id ${WORD} --json`);
  });
});
