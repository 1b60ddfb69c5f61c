import { randomUUID } from 'node:crypto';
import { isTerminalStatus, MAX_BODY_LIMIT_BYTES } from 'proxy-client/wire';
import { CliError } from '../cli-error.js';
import type { CommandContext } from '../context.js';
import { openDataFile } from '../data-file.js';
import { EXIT_CODES } from '../exit-codes.js';
import { headerArgs } from '../header-option.js';
import type { DataSource, SubmitAction } from '../options.js';
import { readAtMost, TooLargeError } from '../read-at-most.js';
import { formatDuration } from '../render/duration.js';
import { cliCommand, sameWaitArgs, shellQuote } from '../resume.js';
import { answerLost, noAnswerWhile } from '../to-cli-error.js';
import { wideEncoding } from '../wide-encoding.js';
import { deadlineFor, remainingMs } from './deadline.js';
import { printTask } from './show-task.js';
import { waitWithProgress } from './wait.js';

/**
 * `--submit <path> [--data …] [--method m] [--wait]`: queue a request; print its id or its end.
 * Every submission carries an idempotency key (`--idempotency-key`, or one made here), so the
 * SDK's retries and a person's second try can never start the task twice. `--wait` asks for no
 * hold (`Prefer: wait`): the id shows, and Ctrl-C can name it, from the moment the task exists,
 * for one more round trip on a quick task.
 */
export async function submit(ctx: CommandContext, action: SubmitAction): Promise<void> {
  const { client, output, signal, options } = ctx;
  // The JSON goes as typed (checked, not re-encoded), so the target gets the user's bytes.
  const json = action.data === undefined ? undefined : await readData(ctx, action.data);
  const idempotencyKey = action.idempotencyKey ?? `proxy-cli-${randomUUID()}`;
  const what = `${action.method} /${action.path}`;
  const startedAt = performance.now();
  // --timeout bounds the whole call, the submission included; without --wait, the submission.
  const deadline = deadlineFor(signal, options.timeoutMs);
  const submission = await client
    .submit(action.path, json, {
      method: action.method,
      signal: deadline.signal,
      idempotencyKey,
      headers: {
        ...action.headers,
        ...(json !== undefined && { 'content-type': 'application/json' }),
      },
      ...(action.priority && { priority: action.priority }),
      ...(action.callbackUrl && { callbackUrl: action.callbackUrl }),
      ...(action.maxAttempts !== undefined && { maxAttempts: action.maxAttempts }),
      ...(action.maxQueueTimeMs !== undefined && { maxQueueTimeMs: action.maxQueueTimeMs }),
      ...(action.upstreamTimeoutMs !== undefined && {
        upstreamTimeoutMs: action.upstreamTimeoutMs,
      }),
    })
    .catch((error: unknown) => {
      const interrupted = signal.aborted;
      // stdin was read once and is gone: the same key with another body is refused (422).
      const piped = action.data?.kind === 'stdin' ? ' and the same body piped in' : '';
      const again = `submit it again with the same key${piped}, and the proxy names that task instead of starting another: ${cliCommand(options, [...submitArgs(action, idempotencyKey), ...sameWaitArgs(options)])}`;
      const details = { idempotency_key: idempotencyKey };
      if (!interrupted && !deadline.expired(error)) {
        if (!answerLost(error)) throw error;
        throw new CliError(
          EXIT_CODES.unreachable,
          `${noAnswerWhile(options.url, `submitting ${what}`, error)}; the task may have been created`,
          again,
          { cause: error, details },
        );
      }
      throw new CliError(
        interrupted ? EXIT_CODES.interrupted : EXIT_CODES.timeout,
        `${interrupted ? 'interrupted' : `gave up after ${formatDuration(options.timeoutMs ?? 0)}`} while submitting ${what}; the task may have been created`,
        again,
        { cause: error, details },
      );
    });
  const { taskId } = submission;
  // A key the CLI made is this run's alone: a replay then answers its own retry, with the task
  // its first attempt created.
  const replayed = submission.replayed && action.idempotencyKey !== undefined;
  const again = replayed ? ' (submitted before with this idempotency key)' : '';
  if (action.wait) {
    output.note(`submitted ${what} as task ${taskId}${again}`);
    const timeoutMs = remainingMs(ctx, startedAt);
    printTask(
      ctx,
      await waitWithProgress(ctx, taskId, {
        named: true,
        ...(timeoutMs !== undefined && { timeoutMs }),
      }),
    );
    return;
  }
  output.document({
    task_id: taskId,
    status: submission.status,
    status_url: `${options.url}/task/${taskId}`,
    idempotency_key: idempotencyKey,
    replayed,
  });
  // The id and status are the proxy's words, checked by the SDK only for being strings.
  output.data(output.outText(taskId));
  // A replay names a task that may have run since, or finished.
  const { status } = submission;
  output.note(
    isTerminalStatus(status)
      ? `already ${status}${again}; see it with: ${cliCommand(options, ['--task-id', taskId])}`
      : `${status === 'processing' ? 'running' : 'queued'}${again}; follow it with: ${cliCommand(options, ['--task-id', taskId, '--wait'])}`,
  );
}

/**
 * The file's (or stdin's) text, if it is UTF-8, as JSON must be: decoding anything else would replace the
 * bad bytes, and the target would not get the bytes in the file. A byte order mark is kept here:
 * readData drops it and says so, rather than it vanishing unseen.
 */
function utf8(bytes: Uint8Array, where: string): string {
  // Windows tools save "Unicode" text as UTF-16, some programs with no byte order mark: converting
  // that from latin1, as the hint below says for other bytes, would garble it, and without a mark
  // its NUL bytes pass as UTF-8, to fail JSON.parse with an invisible NUL in the message.
  const wide = wideEncoding(bytes);
  if (wide) {
    throw new CliError(
      EXIT_CODES.usage,
      `--data: ${where} is ${wide.name} text (${wide.sign}), and JSON must be UTF-8`,
      where === 'stdin'
        ? `convert it first: pipe it through iconv -f ${wide.name} -t UTF-8`
        : `convert it first: iconv -f ${wide.name} -t UTF-8 ${shellQuote(where)} > body.json, then --data @body.json`,
    );
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new CliError(
      EXIT_CODES.usage,
      `--data: ${where} is not UTF-8 text, and JSON must be`,
      where === 'stdin'
        ? 'convert it first, e.g. pipe it through iconv -f latin1 -t utf-8'
        : `convert it first, e.g. iconv -f latin1 -t utf-8 ${where}`,
    );
  }
}

/**
 * The flags that submit `action` again with `idempotencyKey`. Data from stdin cannot be read
 * twice: the line says `--data @-` and the same data must be piped again.
 */
function submitArgs(action: SubmitAction, idempotencyKey: string): string[] {
  const args = ['--submit', action.path, '--method', action.method];
  if (action.data?.kind === 'inline') args.push('--data', action.data.json);
  if (action.data?.kind === 'file') args.push('--data', `@${action.data.path}`);
  if (action.data?.kind === 'stdin') args.push('--data', '@-');
  if (action.priority) args.push('--priority', action.priority);
  if (action.callbackUrl) args.push('--callback-url', action.callbackUrl);
  if (action.maxAttempts !== undefined) args.push('--max-attempts', String(action.maxAttempts));
  if (action.maxQueueTimeMs !== undefined) {
    args.push('--max-queue-time', String(action.maxQueueTimeMs / 1000));
  }
  if (action.upstreamTimeoutMs !== undefined) {
    args.push('--upstream-timeout', String(action.upstreamTimeoutMs / 1000));
  }
  if (action.headers) args.push(...headerArgs(action.headers));
  args.push('--idempotency-key', idempotencyKey);
  if (action.wait) args.push('--wait');
  return args;
}

const BOM = '\uFEFF';

/** The JSON text of `--data`, checked; a missing file or bad JSON is a usage error. */
async function readData(ctx: CommandContext, source: DataSource): Promise<string> {
  if (source.kind === 'inline') return source.json;
  const where = source.kind === 'file' ? source.path : 'stdin';
  if (source.kind === 'stdin' && ctx.stdinIsTerminal) {
    // Else a person who typed `--data @-` sees a CLI that seems to hang.
    ctx.output.note(
      'reading the request body (JSON) from the terminal: type it, then Ctrl-D on a new line',
    );
  }
  let text: string;
  try {
    text = utf8(
      source.kind === 'file'
        ? await readAtMost(await openDataFile(source.path, ctx.signal), MAX_BODY_LIMIT_BYTES)
        : await ctx.readStdin(),
      where,
    );
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof TooLargeError) {
      throw new CliError(
        EXIT_CODES.usage,
        `--data: ${where} holds more than ${MAX_BODY_LIMIT_BYTES / 1024 ** 2} MiB, more than any proxy takes (its --body-limit is at most ${MAX_BODY_LIMIT_BYTES / 1024 ** 2}mb)`,
      );
    }
    if (ctx.signal.aborted) {
      throw new CliError(
        EXIT_CODES.interrupted,
        `interrupted while reading --data from ${where}; nothing was submitted`,
        undefined,
        { cause: error },
      );
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(
      EXIT_CODES.usage,
      `--data: cannot read ${where}: ${reason}`,
      'name a readable file, --data @body.json, or read stdin with --data @-',
    );
  }
  // Editors on Windows save UTF-8 with a byte order mark; JSON text has none (RFC 8259), and
  // JSON.parse would refuse it as an invisible "unexpected token".
  if (text.startsWith(BOM)) {
    text = text.slice(BOM.length);
    ctx.output.note(`--data: ${where} starts with a byte order mark; it was left out of the body`);
  }
  try {
    JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(
      EXIT_CODES.usage,
      `--data: ${where} is not valid JSON: ${reason}`,
      source.kind === 'file'
        ? `--data sends JSON; see where it breaks with: jq . < ${shellQuote(source.path)}`
        : '--data sends JSON; see where it breaks by piping the same input to: jq .',
    );
  }
  return text;
}
