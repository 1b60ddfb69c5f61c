import type { QueueFullError } from 'proxy-client';

/**
 * The proxy's reason for refusing the task, which names the limit reached (`--max-queue-size`,
 * `--max-tasks`, a tenant's `--tenant-max-queued`): each calls for a different fix. Its "retry in
 * about N s" goes, as the hint says when. Its generic message, or none, names no limit.
 */
export function queueFullReason(error: QueueFullError): string | undefined {
  return /^(.+?); retry in about \d+ s/.exec(error.message)?.[1];
}
