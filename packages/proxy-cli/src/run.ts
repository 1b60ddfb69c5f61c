import { cancelTask } from './commands/cancel.js';
import { cleanup } from './commands/cleanup.js';
import { runDemos } from './commands/demo.js';
import { checkHealth } from './commands/health.js';
import { listTasks } from './commands/list-tasks.js';
import { retryTask } from './commands/retry.js';
import { showTask } from './commands/show-task.js';
import { showStats } from './commands/stats.js';
import { submit } from './commands/submit.js';
import { watchTasks } from './commands/watch.js';
import type { CommandContext } from './context.js';
import type { Action } from './options.js';

/** The one switch from an action to its command. */
export function runAction(action: Action, ctx: CommandContext): Promise<void> {
  switch (action.kind) {
    case 'demo':
      return runDemos(ctx, action.demos, action.proxyStops === true);
    case 'stats':
      return showStats(ctx, action);
    case 'task':
      return showTask(ctx, action);
    case 'list': {
      const { kind: _, ...query } = action;
      return listTasks(ctx, query);
    }
    case 'submit':
      return submit(ctx, action);
    case 'cancel':
      return cancelTask(ctx, action);
    case 'retry':
      return retryTask(ctx, action);
    case 'watch':
      return watchTasks(ctx, action);
    case 'cleanup':
      return cleanup(ctx, action);
    case 'health':
      return checkHealth(ctx);
  }
}
