/**
 * C0 controls but tab and newline, DEL, and C1 controls: a terminal acts on them (ESC starts a
 * sequence that clears the screen or sets the window title; CSI is ESC's one-character C1 twin)
 * instead of showing them.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Characters a terminal draws as nothing, yet which change what is seen: every format character
 * (Unicode's Cf, from the ICU Node ships), and the line and paragraph separators. Bidirectional
 * controls (the embeddings, overrides and isolates, LRM, RLM and ALM) reorder the text around
 * them, so `/api/x\u202Egnp.exe` reads as `/api/xexe.png` ("Trojan Source"). Zero-width ones
 * (ZWSP, ZWNJ, ZWJ, the word joiner, the BOM, the invisible operators, the Mongolian vowel
 * separator) make two different paths look alike, and each is counted a column by the table's
 * width arithmetic while taking none, which pushes a box's border out of line; tag characters
 * (U+E0020-E007F) spell hidden ASCII. U+2028 and U+2029 break a line in some terminals and not
 * in others. The whole category rather than a list, so a member a list would miss goes too.
 */
const INVISIBLE = /[\p{Cf}\u2028\u2029]/gu;

/**
 * Text the CLI did not write itself (a target's body, a proxy's message), as it may go to a
 * terminal: each control character shown as `\xNN` and each invisible one above as `\uNNNN` (past
 * U+FFFF, `\u{NNNNN}`), so
 * a body cannot clear the screen, retitle the window, forge a line or read backwards. Line breaks
 * sent as CRLF stay line breaks. Only for a terminal: piped output and --json keep the bytes as
 * they came.
 */
export function showControls(text: string): string {
  return text
    .replaceAll('\r\n', '\n')
    .replace(CONTROL, (char) => `\\x${hex(char, 2)}`)
    .replace(INVISIBLE, (char) =>
      char.length === 1 ? `\\u${hex(char, 4)}` : `\\u{${hex(char, 5)}}`,
    );
}

function hex(char: string, digits: number): string {
  return (char.codePointAt(0) ?? 0).toString(16).padStart(digits, '0');
}
