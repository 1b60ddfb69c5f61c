/**
 * Whether `text`'s percent escapes decode: `%ZZ` is no escape, and `%E9` alone (Latin-1) decodes
 * to no UTF-8.
 */
export function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}
