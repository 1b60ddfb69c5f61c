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
  const json = withoutByteOrderMark(text);
  if (JSON_TYPE.test(type) && isJson(json) && !nestedDeeperThan(json, MAX_JSON_DEPTH)) {
    return { body: text, encoding: 'json' };
  }
  const looksTextual =
    TEXT_TYPE.test(type) || /;\s*charset=/i.test(type) || (type === '' && !text.includes('\0'));
  return looksTextual ? { body: text, encoding: 'text' } : { body: bytes, encoding: 'base64' };
}

/** The body as `TaskResult.body` carries it for its encoding. */
export function wireBodyOf(body: string | Buffer, encoding: BodyEncoding): unknown {
  if (typeof body !== 'string') return body.toString('base64');
  return encoding === 'json' ? JSON.parse(withoutByteOrderMark(body)) : body;
}

/**
 * JSON text without a leading byte order mark, which RFC 8259 (8.1) lets a parser ignore and
 * JSON.parse refuses. The stored body keeps it, so the replay has the bytes as sent.
 */
function withoutByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * The deepest JSON kept parsed. JSON.parse takes any depth, but JSON.stringify recurses: a body
 * nested a few thousand deep (a hostile or broken target) would make every answer that carries
 * the parsed task fail, for good. No real document comes near this; deeper ones are kept unparsed, as invalid JSON is.
 */
export const MAX_JSON_DEPTH = 1000;

const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether valid JSON `text` nests arrays and objects deeper than `limit`. */
function nestedDeeperThan(text: string, limit: number): boolean {
  // Each level takes two characters: a shorter text cannot be deeper.
  if (text.length <= 2 * limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (code === OPEN_ARRAY || code === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (code === CLOSE_ARRAY || code === CLOSE_OBJECT) depth--;
  }
  return false;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
