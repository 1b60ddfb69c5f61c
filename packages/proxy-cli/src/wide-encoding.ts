/** A Unicode encoding wider than UTF-8, as iconv names it, and how it was told. */
export interface WideEncoding {
  /** For `iconv -f`: with a byte order mark, the family name, which reads the order from it. */
  name: 'UTF-16' | 'UTF-32' | 'UTF-16LE' | 'UTF-16BE' | 'UTF-32LE' | 'UTF-32BE';
  /** How the bytes gave it away, for the error message. */
  sign: string;
}

/**
 * The UTF-16 or UTF-32 encoding `bytes` are in, if they start as such text does: a byte order
 * mark, or NUL bytes beside the first character. JSON text starts with an ASCII character and
 * never holds a NUL byte, so in JSON these are never UTF-8. UTF-32LE's mark starts as UTF-16LE's
 * does, so the longer ones are tried first.
 */
export function wideEncoding(bytes: Uint8Array): WideEncoding | undefined {
  const [b0, b1, b2, b3] = bytes;
  const mark = (family: 'UTF-16' | 'UTF-32'): WideEncoding => ({
    name: family,
    sign: `it starts with a ${family} byte order mark`,
  });
  const nuls = (name: WideEncoding['name']): WideEncoding => ({
    name,
    sign: 'NUL bytes beside its first character',
  });
  if (b0 === 0xff && b1 === 0xfe && b2 === 0 && b3 === 0) return mark('UTF-32');
  if (b0 === 0 && b1 === 0 && b2 === 0xfe && b3 === 0xff) return mark('UTF-32');
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) return mark('UTF-16');
  if (b0 !== 0 && b0 !== undefined && b1 === 0 && b2 === 0 && b3 === 0) return nuls('UTF-32LE');
  if (b0 === 0 && b1 === 0 && b2 === 0 && b3 !== 0 && b3 !== undefined) return nuls('UTF-32BE');
  if (b0 !== 0 && b0 !== undefined && b1 === 0) return nuls('UTF-16LE');
  if (b0 === 0 && b1 !== 0 && b1 !== undefined) return nuls('UTF-16BE');
  return undefined;
}
