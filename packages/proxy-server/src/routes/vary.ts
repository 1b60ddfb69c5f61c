import type { FastifyReply } from 'fastify';

/**
 * Adds `names` to the answer's `Vary` rather than setting it: with `--cors-origin` naming
 * origins, @fastify/cors has put `Origin` there (the origin it allows is the request's), and an
 * answer without it would let a cache hand one origin's answer, and its CORS headers, to another.
 */
export function addVary(reply: FastifyReply, names: string | readonly string[]): void {
  const current = reply.getHeader('vary');
  // Every submission comes here, mostly with no Vary yet (no CORS): nothing to merge with.
  if (current === undefined) {
    reply.header('vary', names);
    return;
  }
  const listed: string[] = [];
  for (const value of [current, names].flat()) {
    for (const name of String(value).split(',')) {
      const trimmed = name.trim();
      if (trimmed === '*') {
        reply.header('vary', '*');
        return;
      }
      const lower = trimmed.toLowerCase();
      if (trimmed && !listed.some((each) => each.toLowerCase() === lower)) listed.push(trimmed);
    }
  }
  if (listed.length > 0) reply.header('vary', listed.join(', '));
}
