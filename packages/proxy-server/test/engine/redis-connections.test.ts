import { describe, expect, it } from 'vitest';
import { connectFailure } from '../../src/engine/redis/connections.js';

describe('connectFailure: why the first connection to Redis failed', () => {
  it.each([
    [
      'redis://u:secret@r:6379/0',
      'WRONGPASS invalid username-password pair or user is disabled.',
      'Redis at redis://r:6379/0 refused the credentials (WRONGPASS invalid username-password pair or user is disabled.)',
    ],
    [
      'redis://r:6379',
      'NOAUTH Authentication required.',
      'Redis at redis://r:6379 refused the credentials (NOAUTH Authentication required.)',
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
