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
  timeout: 124,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCode, string>> = {
  0: 'done',
  1: 'the task failed',
  2: "bad usage: unknown flag, bad value, an action's flag given twice, no action or two",
  3: 'the proxy could not be reached at --url',
  4: 'no task with that id on the proxy',
  5: 'the proxy said no: unauthorized, queue full, unhealthy',
  6: "the task's state does not allow it: --cancel of a finished task, --retry of an unfinished one",
  124: '--timeout ran out while waiting (the task goes on)',
  130: 'interrupted by Ctrl-C (the task goes on)',
};
