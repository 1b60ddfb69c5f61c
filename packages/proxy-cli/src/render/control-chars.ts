/**
 * C0 controls but tab and newline, DEL, and C1 controls: a terminal acts on them (ESC starts a
 * sequence that clears the screen or sets the window title; CSI is ESC's one-character C1 twin)
 * instead of showing them.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Characters a terminal draws as nothing, yet which change what is seen. Bidirectional controls
 * (the embeddings, overrides and isolates, LRM, RLM and ALM) reorder the text around them, so
 * `/api/x\u202Egnp.exe` reads as `/api/xexe.png` ("Trojan Source"). Zero-width ones (ZWSP, ZWNJ,
 * ZWJ, the BOM) make two different paths look alike, and each is counted a column by the table's
 * width arithmetic while taking none, which pushes a box's border out of line.
 */
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * Text the CLI did not write itself (a target's body, a proxy's message), as it may go to a
 * terminal: each control character shown as `\xNN` and each invisible one above as `\uNNNN`, so
 * a body cannot clear the screen, retitle the window, forge a line or read backwards. Line breaks
 * sent as CRLF stay line breaks. Only for a terminal: piped output and --json keep the bytes as
 * they came.
 */
export function showControls(text: string): string {
  return text
    .replaceAll('\r\n', '\n')
    .replace(CONTROL, (char) => `\\x${hex(char, 2)}`)
    .replace(INVISIBLE, (char) => `\\u${hex(char, 4)}`);
}

function hex(char: string, digits: number): string {
  return char.charCodeAt(0).toString(16).padStart(digits, '0');
}
