import { maxHeaderSize } from 'node:http';

/**
 * What the proxy adds to an answer's headers when it replays it (`/result`: its task id, the
 * sandbox, CORS and caching headers, keep-alive): taken off Node's header limit for the target's
 * answer, so that every answer kept can be read back by a client with Node's own limit.
 */
const REPLAY_HEADROOM_BYTES = 1024;

/** The most header bytes an answer of the target may have. */
export const ANSWER_HEADER_LIMIT_BYTES = maxHeaderSize - REPLAY_HEADROOM_BYTES;
