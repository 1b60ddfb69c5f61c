import { isUtf8 } from 'node:buffer';
import type { BodyEncoding } from 'proxy-client/wire';
import type { StoredResult } from '../engine/task-record.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b|\/json\b/i;
const TEXT_TYPE =
  /^(?:text\/|application\/(?:[\w.+-]+\+)?xml\b|application\/(?:javascript|ecmascript|x-www-form-urlencoded|graphql|yaml|x-yaml|x-ndjson|ld\+json)\b)/i;

/**
 * How an answer body is kept: JSON (declared and valid) and UTF-8 text as one string, anything
 * else as its bytes, later sent as base64. Text in another charset is not valid UTF-8, so it is
 * kept as bytes too and nothing is lost.
 */
export function storedBodyOf(
  bytes: Buffer,
  contentType: string | undefined,
): Pick<StoredResult, 'body' | 'encoding'> {
  if (bytes.length === 0) return { body: '', encoding: 'text' };
  const type = contentType ?? '';
  if (!isUtf8(bytes)) return { body: bytes, encoding: 'base64' };
  const text = bytes.toString('utf8');
  if (JSON_TYPE.test(type) && isJson(text)) return { body: text, encoding: 'json' };
  const looksTextual =
    TEXT_TYPE.test(type) || /;\s*charset=/i.test(type) || (type === '' && !text.includes('\0'));
  return looksTextual ? { body: text, encoding: 'text' } : { body: bytes, encoding: 'base64' };
}

/** The body as `TaskResult.body` carries it for its encoding. */
export function wireBodyOf(body: string | Buffer, encoding: BodyEncoding): unknown {
  if (typeof body !== 'string') return body.toString('base64');
  return encoding === 'json' ? JSON.parse(body) : body;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
