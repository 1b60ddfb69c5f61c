import { StoreRefusedError } from '../store-refused.js';
import { displayUrl, hasPassword, redisUser } from './connections.js';

/** Redis's words for a client it will not let in: a password missing, or one it does not take. */
const REFUSED = /^(WRONGPASS|NOAUTH)\b/;

/**
 * A start whose credentials Redis refuses, if `reason` says so: they will not come right by
 * themselves, so, like an ACL that denies a command, it is the operator's to fix (exit 2, one
 * line), not an outage for a supervisor to wait out.
 */
export function credentialsRefusal(
  url: string,
  reason: string,
  cause: unknown,
): StoreRefusedError | null {
  if (!REFUSED.test(reason)) return null;
  const where = displayUrl(url);
  // WRONGPASS says the same for a user Redis does not know, one that is off, and a wrong password.
  const message = hasPassword(url)
    ? `Redis at ${where} refuses user ${redisUser(url)} with the password the URL gives (${reason}): the user is unknown to it, off (ACL SETUSER <user> on), or has another password; correct them in the URL, redis://<user>:<password>@host:port/db (redis://:<password>@… for the default user), with any of @ : / ? # % in them percent-encoded`
    : `Redis at ${where} asks for a password, and the URL gives none (${reason}): give it in the URL, redis://:<password>@host:port/db (redis://<user>:<password>@… for an ACL user), with any of @ : / ? # % in it percent-encoded`;
  return new StoreRefusedError(message, { cause });
}
