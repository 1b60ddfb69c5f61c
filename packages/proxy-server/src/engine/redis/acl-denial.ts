import { StoreRefusedError } from '../store-refused.js';

/**
 * Redis's words for a command, key or channel its ACL denies the URL's user: a NOPERM reply to a
 * command, or a script's error for one it runs (7.0: "can't run this command", "can't access at
 * least one of the keys"; 7.2 on: "ACL failure in script").
 */
const DENIED =
  /^NOPERM\b|ACL failure in script|can't run this command or subcommand|can't access at least one of the keys/;

export function isAclDenial(error: Error): boolean {
  return DENIED.test(error.message);
}

/** The denial in `error` or in its causes (a store may wrap Redis's reply), if there is one. */
export function aclDenial(error: unknown): Error | null {
  for (let at = error; at instanceof Error; at = at.cause) {
    if (isAclDenial(at)) return at;
  }
  return null;
}

/** The grant that gives a user all the proxy needs: the same words at start and while running. */
export function aclGrant(user: string, prefix: string): string {
  return `ACL SETUSER ${user} ~${prefix}:* +@all`;
}

interface Where {
  /** The Redis URL as people may see it (no password). */
  where: string;
  user: string;
  prefix: string;
}

/**
 * A start refused by Redis's ACL: the operator's to fix, like a database Redis does not have.
 * Redis's own words name the command it denied, but for a key only that some key was denied, so
 * the command that used the key is named beside them.
 */
export function aclRefusal(denial: Error, { where, user, prefix }: Where): StoreRefusedError {
  const message = denial.message.replace(/\.$/, '');
  const command = /the '([^']+)' command/.exec(message)?.[1];
  const ran = (denial as { command?: { name?: unknown } }).command?.name;
  const running = typeof ran === 'string' ? ` (as it ran ${ran.toUpperCase()})` : '';
  const what = command
    ? `the ${command.toUpperCase()} command`
    : /\bchannels?\b/.test(message)
      ? `a channel${running}`
      : /\bkeys?\b/.test(message)
        ? `a key under ${prefix}:${running}, so its key patterns do not cover ${prefix}:*`
        : `a command${running}`;
  return new StoreRefusedError(
    `Redis at ${where} refuses user ${user} ${what} (${message}); the proxy needs EVAL and EVALSHA (its scripts and BullMQ's run hash, set, sorted-set and stream commands), INFO, and BullMQ's and the event feed's blocking reads, all on keys under ${prefix}: and no channels: ${aclGrant(user, prefix)}`,
    { cause: denial },
  );
}
