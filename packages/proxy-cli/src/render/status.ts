import type { ChalkInstance } from 'chalk';
import type { TaskStatus } from 'proxy-client/wire';

/** One colour per status, the same everywhere: tables, task detail, spinner text. */
export function paintStatus(status: TaskStatus | string, color: ChalkInstance): string {
  switch (status) {
    case 'completed':
      return color.green(status);
    case 'failed':
      return color.red(status);
    case 'processing':
      return color.yellow(status);
    case 'pending':
      return color.gray(status);
    default:
      return status;
  }
}
