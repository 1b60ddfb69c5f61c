import { Chalk, type ChalkInstance } from 'chalk';
import ora, { type Ora } from 'ora';

/** The streams and settings output depends on; `bin.ts` passes the process's own. */
export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; getColorDepth?: (env?: object) => number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; getColorDepth?: (env?: object) => number };
  env: Readonly<Record<string, string | undefined>>;
}

/** A line that can be rewritten while something runs: an ora spinner on a terminal, else silent. */
export interface Progress {
  update(text: string): void;
  /** Removes the spinner; the caller prints whatever should stay. */
  stop(): void;
}

/**
 * Where everything the CLI says goes: data on stdout, everything else on stderr. With `--json`
 * stdout carries exactly one JSON document and stderr only errors.
 */
export class Output {
  readonly json: boolean;
  /** Colours for stdout text; level 0 when colours are off. */
  readonly color: ChalkInstance;
  /** Colours for stderr text, decided on stderr's own terminal. */
  readonly errColor: ChalkInstance;
  private readonly streams: OutputStreams;
  private documentWritten = false;
  private activeSpinner: Ora | undefined;

  constructor(streams: OutputStreams, settings: { json: boolean; color: boolean }) {
    this.streams = streams;
    this.json = settings.json;
    const allowed = settings.color && !settings.json && !nonEmpty(streams.env['NO_COLOR']);
    this.color = new Chalk({ level: allowed ? colorLevel(streams.stdout, streams.env) : 0 });
    this.errColor = new Chalk({ level: allowed ? colorLevel(streams.stderr, streams.env) : 0 });
  }

  /** True once the one JSON document went out, so an error adds none of its own. */
  get wroteDocument(): boolean {
    return this.documentWritten;
  }

  /** Data for people: a table, a task, an id. Ignored with --json (the document says it all). */
  data(text: string): void {
    if (this.json) return;
    this.pauseSpinner(() => this.streams.stdout.write(text.endsWith('\n') ? text : `${text}\n`));
  }

  /** The one JSON document of a --json run; a second call is a bug. */
  document(value: unknown): void {
    if (!this.json) return;
    if (this.documentWritten) throw new Error('output: a second JSON document');
    this.documentWritten = true;
    this.streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Progress and hints for people, on stderr; silent with --json. */
  note(text: string): void {
    if (this.json) return;
    this.pauseSpinner(() => this.streams.stderr.write(`${text}\n`));
  }

  /** Errors: always on stderr, --json or not. */
  error(text: string): void {
    this.stopSpinner();
    this.streams.stderr.write(`${text}\n`);
  }

  /** Whether a spinner would show: stderr is a terminal and this is not --json. */
  get interactive(): boolean {
    return !this.json && this.streams.stderr.isTTY === true;
  }

  /** A spinner on stderr when interactive, else a no-op (callers print plain lines themselves). */
  progress(text: string): Progress {
    if (!this.interactive) return { update() {}, stop() {} };
    this.stopSpinner();
    const spinner = ora({
      text,
      stream: this.streams.stderr,
      color: this.errColor.level > 0 ? 'cyan' : false,
      // Raw-mode stdin would swallow Ctrl-C into ora's own handling; let the terminal send SIGINT.
      discardStdin: false,
      isEnabled: true,
    }).start();
    this.activeSpinner = spinner;
    return {
      update: (next) => {
        spinner.text = next;
      },
      stop: () => {
        spinner.stop();
        if (this.activeSpinner === spinner) this.activeSpinner = undefined;
      },
    };
  }

  private pauseSpinner(write: () => void): void {
    const spinner = this.activeSpinner;
    if (!spinner?.isSpinning) return void write();
    spinner.clear();
    write();
    spinner.render();
  }

  private stopSpinner(): void {
    this.activeSpinner?.stop();
    this.activeSpinner = undefined;
  }
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}

/** chalk level for a stream: FORCE_COLOR wins, then the terminal's colour depth; 0 off a TTY. */
function colorLevel(stream: OutputStreams['stdout'], env: OutputStreams['env']): 0 | 1 | 2 | 3 {
  const force = env['FORCE_COLOR'];
  if (force !== undefined) {
    if (force === '0' || force === 'false') return 0;
    if (force === '2') return 2;
    if (force === '3') return 3;
    return 1;
  }
  if (stream.isTTY !== true) return 0;
  const depth = stream.getColorDepth?.(env) ?? 4;
  return depth >= 24 ? 3 : depth >= 8 ? 2 : depth >= 4 ? 1 : 0;
}
