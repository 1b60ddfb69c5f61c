/**
 * Every exit code the CLI uses, in one table: docs/cli.md repeats it and the tests check it.
 * Scripts branch on these, so a number never changes meaning.
 */
export const EXIT_CODES = {
  ok: 0,
  taskFailed: 1,
  usage: 2,
  unreachable: 3,
  notFound: 4,
  proxyError: 5,
  taskState: 6,
  /** sysexits' EX_IOERR: 1 would read as "the task failed" to a script. */
  outputFailed: 74,
  timeout: 124,
  /** 128 + the signal's number, as a shell reports a command the signal ended. */
  hangup: 129,
  interrupted: 130,
  terminated: 143,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCode, string>> = {
  0: 'done',
  1: 'the task ended without completing: failed, cancelled or expired (or a bug in the CLI)',
  2: "bad usage: unknown flag, bad value, an action's flag given twice, no action or two",
  3: 'the proxy could not be reached at --url',
  4: 'no task with that id on the proxy',
  5: 'the proxy said no: unauthorized, queue full, unhealthy',
  6: "the task's state does not allow it: --cancel of a finished task, --retry of an unfinished one",
  74: 'stdout could not be written (a full disk)',
  124: '--timeout ran out while waiting for a task (it goes on) or for an answer',
  129: 'interrupted by SIGHUP with no output on a terminal, as Ctrl-C (the task goes on)',
  130: 'interrupted by Ctrl-C (the task goes on)',
  143: 'interrupted by SIGTERM, as Ctrl-C (the task goes on)',
};

/** The signals that stop a run as Ctrl-C does, each with its exit code. */
export const STOP_SIGNALS = {
  SIGHUP: EXIT_CODES.hangup,
  SIGINT: EXIT_CODES.interrupted,
  SIGTERM: EXIT_CODES.terminated,
} as const;

export type StopSignal = keyof typeof STOP_SIGNALS;
