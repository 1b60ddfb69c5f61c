import type { TaskResult } from 'proxy-client/wire';

const MAX_LINES = 40;

/**
 * The target's answer body as people read it: long bodies cut on a terminal (`full` keeps every
 * line, for output going to a file or a pipe); --json has the whole thing, binary included.
 */
export function formatBody(result: TaskResult, { full = false }: { full?: boolean } = {}): string {
  const cut = full ? (text: string) => text : truncate;
  switch (result.body_encoding) {
    case 'json':
      return cut(JSON.stringify(result.body, null, 2) ?? 'null');
    case 'text':
      return cut(typeof result.body === 'string' ? result.body : String(result.body));
    case 'base64': {
      const bytes = typeof result.body === 'string' ? Buffer.byteLength(result.body, 'base64') : 0;
      return `(${bytes} bytes of binary data: --json has it as base64)`;
    }
  }
}

function truncate(text: string): string {
  const lines = text.split('\n');
  if (lines.length <= MAX_LINES) return text;
  return `${lines.slice(0, MAX_LINES).join('\n')}\n… ${lines.length - MAX_LINES} more lines (--json has all of it)`;
}
