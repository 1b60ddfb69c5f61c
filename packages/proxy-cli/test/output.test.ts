import { Writable } from 'node:stream';
import { WriteStream } from 'node:tty';
import { describe, expect, it } from 'vitest';
import type { CliOptions } from '../src/options.js';
import { MIN_SPINNER_COLUMNS, Output } from '../src/output.js';
import type { OutputStreams } from '../src/output-stream.js';
import { resumeCommand } from '../src/resume.js';

/** A stream as Node gives one: a terminal has a width (`columns`), 0 when it reports none. */
function fakeStream(isTTY: boolean, columns = isTTY ? 80 : undefined, depth = 8) {
  let text = '';
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    }),
    {
      isTTY,
      columns,
      // Node's own reading of the environment (NO_COLOR, even empty, means 2 colours), on a
      // terminal of `depth` bits.
      getColorDepth: (env: object = {}) =>
        Math.min(
          depth,
          WriteStream.prototype.getColorDepth.call(null, { TERM: 'xterm-256color', ...env }),
        ),
      // What ora calls on a terminal, as tty.WriteStream does it: escape codes on the stream.
      cursorTo: (x: number) => {
        text += `\u001b[${x + 1}G`;
      },
      moveCursor: (_dx: number, dy: number) => {
        if (dy < 0) text += `\u001b[${-dy}A`;
      },
      clearLine: () => {
        text += '\u001b[2K';
      },
    },
  );
  return { stream, text: () => text };
}

function setup(opts: {
  tty: boolean;
  columns?: number;
  stdoutTty?: boolean;
  env?: Record<string, string>;
  json?: boolean;
  color?: boolean;
}) {
  const out = fakeStream(opts.stdoutTty ?? opts.tty);
  const err = fakeStream(opts.tty, opts.columns);
  const streams: OutputStreams = { stdout: out.stream, stderr: err.stream, env: opts.env ?? {} };
  const output = new Output(streams, { json: opts.json ?? false, color: opts.color ?? true });
  return { output, stdout: out.text, stderr: err.text, stderrStream: err.stream };
}

describe('colours', () => {
  it.each<[string, Parameters<typeof setup>[0], number]>([
    ['on a terminal', { tty: true }, 2],
    ['off a terminal', { tty: false }, 0],
    ['NO_COLOR set', { tty: true, env: { NO_COLOR: '1' } }, 0],
    ['NO_COLOR empty counts as unset', { tty: true, env: { NO_COLOR: '' } }, 2],
    ['--no-color', { tty: true, color: false }, 0],
    ['--json', { tty: true, json: true }, 0],
    ['FORCE_COLOR off a terminal', { tty: false, env: { FORCE_COLOR: '1' } }, 1],
    ['FORCE_COLOR=0 on a terminal', { tty: true, env: { FORCE_COLOR: '0' } }, 0],
    ['NO_COLOR beats FORCE_COLOR', { tty: false, env: { NO_COLOR: '1', FORCE_COLOR: '3' } }, 0],
  ])('%s', (_name, opts, level) => {
    const { output } = setup(opts);
    expect(output.color.level).toBe(level);
    expect(output.errColor.level).toBe(level);
  });
});

describe('streams', () => {
  it('data on stdout, notes and errors on stderr', () => {
    const { output, stdout, stderr } = setup({ tty: false });
    output.data('table');
    output.note('hint');
    output.error('error: x');
    expect(stdout()).toBe('table\n');
    expect(stderr()).toBe('hint\nerror: x\n');
  });

  it('--json: one document on stdout, no notes, errors still on stderr', () => {
    const { output, stdout, stderr } = setup({ tty: true, json: true });
    output.data('table');
    output.note('hint');
    expect(output.wroteDocument).toBe(false);
    output.document({ a: 1 });
    output.error('error: x');
    expect(JSON.parse(stdout())).toEqual({ a: 1 });
    expect(stderr()).toBe('error: x\n');
    expect(output.wroteDocument).toBe(true);
    expect(() => output.document({ b: 2 })).toThrow(/second JSON document/);
  });

  it('no spinner off a terminal, with --json, or on a terminal without a usable width', () => {
    for (const opts of [
      { tty: false },
      { tty: true, json: true },
      // `script` without a controlling terminal: a TTY that reports 0 columns.
      { tty: true, columns: 0 },
      { tty: true, columns: MIN_SPINNER_COLUMNS - 1 },
      // Emacs' shell and other terminals without cursor control print the codes as text.
      { tty: true, env: { TERM: 'dumb' } },
    ]) {
      const { output, stderr } = setup(opts);
      expect(output.interactive).toBe(false);
      const progress = output.progress('waiting');
      progress.update('still waiting');
      progress.stop();
      expect(stderr()).toBe('');
    }
  });
});

describe('spinner', () => {
  it('runs on a terminal with a usable width', () => {
    const { output, stderr } = setup({ tty: true, columns: MIN_SPINNER_COLUMNS });
    expect(output.interactive).toBe(true);
    const progress = output.progress('waiting');
    progress.stop();
    expect(stderr()).toContain('waiting');
  });

  it('stops for good when the terminal shrinks to no width while it runs', () => {
    const { output, stderrStream, stderr } = setup({ tty: true, columns: 80 });
    const progress = output.progress('waiting');
    stderrStream.columns = 0;
    stderrStream.emit('resize');
    const written = stderr().length;
    // Each would draw a frame; with no width, ora would compute Infinity lines to clear.
    progress.update('still waiting');
    output.note('a note');
    expect(stderr().slice(written)).toBe('a note\n');
    expect(output.interactive).toBe(false);
    progress.stop();
  });
});

describe('views redrawn in place', () => {
  it('on a terminal that moves its cursor, not on TERM=dumb, off one or with --json', () => {
    expect(setup({ tty: true }).output.canRedraw).toBe(true);
    expect(setup({ tty: true, env: { TERM: 'dumb' } }).output.canRedraw).toBe(false);
    expect(setup({ tty: false }).output.canRedraw).toBe(false);
    expect(setup({ tty: true, json: true }).output.canRedraw).toBe(false);
  });
});

describe('tables or plain rows', () => {
  it.each([
    [true, false],
    [false, true],
  ])('stdout a terminal: %s → plain rows: %s', (stdoutTty, plain) => {
    const { output } = setup({ tty: true, stdoutTty });
    expect(output.plain).toBe(plain);
    // A terminal's width goes with the look, so wide tables fit it.
    expect(output.look).toEqual({
      color: output.color,
      plain,
      ...(stdoutTty ? { columns: 80 } : {}),
    });
  });
});

describe('resume command', () => {
  const base: CliOptions = {
    action: { kind: 'task', taskId: 'x', wait: true },
    url: 'http://localhost:8080',
    urlSource: 'default',
    json: false,
    color: true,
  };

  it.each<[Partial<CliOptions>, string]>([
    [{}, 'proxy-cli --task-id abc --wait'],
    [
      { url: 'http://proxy:9000', urlSource: 'flag' },
      'proxy-cli --url http://proxy:9000 --task-id abc --wait',
    ],
    [
      { url: 'http://proxy:9000', urlSource: 'env' },
      'proxy-cli --url http://proxy:9000 --task-id abc --wait',
    ],
    // CLI pass: `<key>` was here, which a shell reads as input from a file named key.
    [
      { apiKey: 'secret', apiKeySource: 'flag' },
      'proxy-cli --api-key "$PROXY_API_KEY" --task-id abc --wait',
    ],
    [{ apiKey: 'secret', apiKeySource: 'env' }, 'proxy-cli --task-id abc --wait'],
    [
      { json: true, pollIntervalMs: 2500 },
      'proxy-cli --task-id abc --wait --poll-interval 2.5 --json',
    ],
    [
      { url: "http://h/it's", urlSource: 'flag' },
      "proxy-cli --url 'http://h/it'\\''s' --task-id abc --wait",
    ],
  ])('%j', (overrides, command) => {
    expect(resumeCommand({ ...base, ...overrides }, 'abc')).toBe(command);
  });

  it('never prints the API key', () => {
    expect(
      resumeCommand({ ...base, apiKey: 'hunter2', apiKeySource: 'flag' }, 'abc'),
    ).not.toContain('hunter2');
  });
});
