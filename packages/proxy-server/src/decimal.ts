/**
 * A number as the proxy reads one from a flag, header or query string: decimal digits, with a
 * fraction where one is allowed, and `.5` and `5.` read as people write them. `Number()` alone
 * also reads `0x10`, `1e3`, `+5` and `Infinity`, which no duration or count here means.
 */
export const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

/** A whole number in decimal digits. */
export const WHOLE = /^\d+$/;
