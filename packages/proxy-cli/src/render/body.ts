import type { TaskResult } from 'proxy-client/wire';

const MAX_LINES = 40;

/** The target's answer body as people read it; --json has the whole thing. */
export function formatBody(result: TaskResult): string {
  switch (result.body_encoding) {
    case 'json':
      return truncate(JSON.stringify(result.body, null, 2) ?? 'null');
    case 'text':
      return truncate(typeof result.body === 'string' ? result.body : String(result.body));
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
