import type { CliOptions } from './options.js';

/**
 * The exact command that takes up a wait again: same proxy, same task, same output mode.
 * The API key is never echoed back; a placeholder says where it goes.
 */
export function resumeCommand(options: CliOptions, taskId: string): string {
  const parts = ['proxy-cli'];
  if (options.urlSource !== 'default') parts.push('--url', shellQuote(options.url));
  if (options.apiKeySource === 'flag') parts.push('--api-key', '<key>');
  parts.push('--task-id', shellQuote(taskId), '--wait');
  if (options.pollIntervalMs !== undefined) {
    parts.push('--poll-interval', String(options.pollIntervalMs / 1000));
  }
  if (options.json) parts.push('--json');
  return parts.join(' ');
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
