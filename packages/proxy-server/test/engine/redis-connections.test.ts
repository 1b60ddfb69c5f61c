import { describe, expect, it } from 'vitest';
import { connectFailure } from '../../src/engine/redis/connections.js';
import { credentialsRefusal } from '../../src/engine/redis/credentials-refusal.js';

describe('connectFailure: why the first connection to Redis failed', () => {
  it.each([
    [
      // ioredis's ready check and BullMQ run INFO as they connect.
      'redis://r:6379/0',
      "ERR unknown command 'info', with args beginning with: ",
      "Redis at redis://r:6379/0 refused a command the proxy needs as it connects (ERR unknown command 'info', with args beginning with: ): INFO must not be renamed or disabled (rename-command)",
    ],
    [
      'redis://r:5432/0',
      'Unknown RESP type 0 "\u0000". Please report this.',
      'what answers at redis://r:5432/0 is not Redis (its reply begins with "\\u0000")',
    ],
    [
      'rediss://r:6379/0',
      'connect ETIMEDOUT',
      'cannot reach Redis at rediss://r:6379/0 (connect ETIMEDOUT; a rediss:// URL needs Redis to speak TLS on that port, and redis:// is for one that does not)',
    ],
    [
      'redis://r:8080/0',
      'write EPIPE',
      'cannot reach Redis at redis://r:8080/0 (write EPIPE; the server there closed the connection when spoken to: is it Redis?)',
    ],
    [
      'redis://r:6379/0',
      'connect ETIMEDOUT',
      'cannot reach Redis at redis://r:6379/0 (connect ETIMEDOUT)',
    ],
  ])('%s: %s', (url, reason, message) => {
    expect(connectFailure(url, reason)).toBe(message);
  });
});

describe('credentialsRefusal: credentials Redis refused as the start connected', () => {
  it.each([
    [
      'redis://u:secret@r:6379/0',
      'WRONGPASS invalid username-password pair or user is disabled.',
      'Redis at redis://r:6379/0 refuses user u with the password the URL gives (WRONGPASS invalid username-password pair or user is disabled.): the user is unknown to it, off (ACL SETUSER <user> on), or has another password; correct them in the URL, redis://<user>:<password>@host:port/db (redis://:<password>@… for the default user), with any of @ : / ? # % in them percent-encoded',
    ],
    [
      'redis://r:6379',
      'NOAUTH Authentication required.',
      'Redis at redis://r:6379 asks for a password, and the URL gives none (NOAUTH Authentication required.): give it in the URL, redis://:<password>@host:port/db (redis://<user>:<password>@… for an ACL user), with any of @ : / ? # % in it percent-encoded',
    ],
    [
      // Redis 7's words when the client opens with HELLO, as ioredis does.
      'redis://r:6379/0',
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
      'Redis at redis://r:6379/0 asks for a password, and the URL gives none (NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time): give it in the URL, redis://:<password>@host:port/db (redis://<user>:<password>@… for an ACL user), with any of @ : / ? # % in it percent-encoded',
    ],
    [
      'redis://:wrong@r:6379/0',
      'NOAUTH Authentication required.',
      'Redis at redis://r:6379/0 refuses user default with the password the URL gives (NOAUTH Authentication required.): the user is unknown to it, off (ACL SETUSER <user> on), or has another password; correct them in the URL, redis://<user>:<password>@host:port/db (redis://:<password>@… for the default user), with any of @ : / ? # % in them percent-encoded',
    ],
  ])('%s: %s', (url, reason, message) => {
    expect(credentialsRefusal(url, reason, null)?.message).toBe(message);
  });

  it.each([
    "ERR unknown command 'info', with args beginning with: ",
    'connect ECONNREFUSED 127.0.0.1:6379',
  ])('leaves %s to connectFailure', (reason) => {
    expect(credentialsRefusal('redis://:pw@r:6379/0', reason, null)).toBeNull();
  });
});
