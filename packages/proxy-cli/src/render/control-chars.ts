/**
 * C0 controls but tab and newline, DEL, and C1 controls: a terminal acts on them (ESC starts a
 * sequence that clears the screen or sets the window title; CSI is ESC's one-character C1 twin)
 * instead of showing them.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Text the CLI did not write itself (a target's body, a proxy's message), as it may go to a
 * terminal: each control character shown as `\xNN`, so a body cannot clear the screen, retitle
 * the window or forge a line. Line breaks sent as CRLF stay line breaks. Only for a terminal:
 * piped output and --json keep the bytes as they came.
 */
export function showControls(text: string): string {
  return text
    .replaceAll('\r\n', '\n')
    .replace(CONTROL, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
