/** What output needs to know of a stream: whether it is a terminal, and how wide and colourful. */
export type OutputStream = NodeJS.WritableStream & {
  isTTY?: boolean;
  /** A terminal's width; 0 where the terminal reports none (`script` without a controlling tty). */
  columns?: number;
  getColorDepth?: (env?: object) => number;
};

/** The streams and settings output depends on; `main.ts` passes the process's own. */
export interface OutputStreams {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Readonly<Record<string, string | undefined>>;
}
