import { Chalk, type ChalkInstance } from 'chalk';
import ora, { type Ora } from 'ora';
import { LiveView } from './live-view.js';
import { noColorAsked } from './no-color.js';
import type { OutputStream, OutputStreams } from './output-stream.js';
import { showControls } from './render/control-chars.js';
import type { Look } from './render/table.js';

/**
 * Narrowest terminal a spinner is drawn on. ora works out how many lines to clear from the width,
 * and a terminal that reports 0 columns makes that Infinity: it then loops forever writing cursor
 * codes. Below this width a spinner line is unreadable anyway, so such a terminal gets the plain
 * progress lines of a log.
 */
export const MIN_SPINNER_COLUMNS = 20;

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
  /**
   * Tables as plain tab-separated rows rather than drawn boxes: stdout is not a terminal, so the
   * rows go to a pipe or a file where `cut`, `awk` and `grep` read them.
   */
  readonly plain: boolean;
  private readonly streams: OutputStreams;
  private documentWritten = false;
  private activeSpinner: Ora | undefined;
  private activeView: LiveView | undefined;

  constructor(streams: OutputStreams, settings: { json: boolean; color: boolean }) {
    this.streams = streams;
    this.json = settings.json;
    const allowed = settings.color && !settings.json && !noColorAsked(streams.env);
    this.color = new Chalk({ level: allowed ? colorLevel(streams.stdout, streams.env) : 0 });
    this.errColor = new Chalk({ level: allowed ? colorLevel(streams.stderr, streams.env) : 0 });
    this.plain = streams.stdout.isTTY !== true;
  }

  /** How data on stdout is drawn: its colours, and boxes or plain rows. */
  get look(): Look {
    const { columns } = this.streams.stdout;
    return { color: this.color, plain: this.plain, ...(columns ? { columns } : {}) };
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

  /**
   * One JSON document on a line of its own, for streams of them (`--watch --json`: JSON Lines).
   * Ignored without --json.
   */
  jsonLine(value: unknown): void {
    if (!this.json) return;
    this.documentWritten = true;
    this.streams.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** Whether stdout can show a live view: a terminal that moves its cursor, and not --json. */
  get canRedraw(): boolean {
    return !this.json && this.streams.stdout.isTTY === true && !this.dumbTerminal;
  }

  /**
   * `TERM=dumb` (Emacs' shell, some CI runners) is a terminal that prints cursor codes as text:
   * a spinner or a redrawn view would fill it with `^[[1G^[[0K`, frame after frame.
   */
  private get dumbTerminal(): boolean {
    return this.streams.env['TERM'] === 'dumb';
  }

  /** A block of stdout redrawn in place (`--watch` on a terminal); close it when done. */
  live(): LiveView {
    this.activeView?.close();
    const view = new LiveView(this.streams.stdout);
    this.activeView = view;
    return view;
  }

  /** Leaves the terminal as it was found (the cursor shown), whatever is running. */
  restore(): void {
    this.activeView?.close();
    this.stopSpinner();
  }

  /**
   * Progress and hints for people, on stderr; silent with --json. No note is coloured, and most
   * carry a proxy's words (an id, a status, a count), so each is escaped here as `errText`.
   */
  note(text: string): void {
    if (this.json) return;
    this.pauseSpinner(() => this.streams.stderr.write(`${this.errText(text)}\n`));
  }

  /**
   * Text for stderr that the CLI did not write itself (a proxy's message, a task's error): its
   * control characters shown rather than obeyed on a terminal, as they came off one.
   */
  errText(text: string): string {
    return this.streams.stderr.isTTY === true ? showControls(text) : text;
  }

  /** `errText` for stdout: a task id a proxy named, printed as data. */
  outText(text: string): string {
    return this.plain ? text : showControls(text);
  }

  /** Errors: always on stderr, --json or not. */
  error(text: string): void {
    this.stopSpinner();
    this.streams.stderr.write(`${text}\n`);
  }

  /**
   * Whether a spinner would show: stderr is a terminal with a usable width that moves its cursor,
   * and this is not --json. Anything else (a pipe, a file, a terminal reporting no width,
   * `TERM=dumb`) gets plain lines instead.
   */
  get interactive(): boolean {
    return (
      !this.json &&
      this.streams.stderr.isTTY === true &&
      usableWidth(this.streams.stderr) &&
      !this.dumbTerminal
    );
  }

  /** A spinner on stderr when interactive, else a no-op (callers print plain lines themselves). */
  progress(text: string): Progress {
    if (!this.interactive) return { update() {}, stop() {} };
    this.stopSpinner();
    const stream = this.streams.stderr;
    const spinner = ora({
      text,
      stream,
      color: this.errColor.level > 0 ? 'cyan' : false,
      // Raw-mode stdin would swallow Ctrl-C into ora's own handling; let the terminal send SIGINT.
      discardStdin: false,
      isEnabled: true,
    }).start();
    this.activeSpinner = spinner;
    // A terminal can shrink to no width while the spinner runs; its next frame would never end.
    // Node sets the new width before it emits 'resize', so this runs before that frame.
    const onResize = () => {
      if (!usableWidth(stream)) stop();
    };
    const stop = () => {
      stream.off?.('resize', onResize);
      spinner.stop();
      if (this.activeSpinner === spinner) this.activeSpinner = undefined;
    };
    stream.on?.('resize', onResize);
    return {
      update: (next) => {
        spinner.text = next;
      },
      stop,
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

function usableWidth(stream: OutputStream): boolean {
  return (stream.columns ?? 0) >= MIN_SPINNER_COLUMNS;
}

/** chalk level for a stream: FORCE_COLOR wins, then the terminal's colour depth; 0 off a TTY. */
function colorLevel(stream: OutputStream, env: OutputStreams['env']): 0 | 1 | 2 | 3 {
  const force = env['FORCE_COLOR'];
  if (force !== undefined) {
    if (force === '0' || force === 'false') return 0;
    if (force === '2') return 2;
    if (force === '3') return 3;
    return 1;
  }
  if (stream.isTTY !== true) return 0;
  // Node reads a NO_COLOR set to '' as set; here (as no-color.org says) it is not, and was
  // decided on above.
  const { NO_COLOR: _decided, ...rest } = env;
  const depth = stream.getColorDepth?.(rest) ?? 4;
  return depth >= 24 ? 3 : depth >= 8 ? 2 : depth >= 4 ? 1 : 0;
}
