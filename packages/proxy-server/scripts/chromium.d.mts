import type { Browser } from 'playwright-core';

/** A headless chromium (Debian's, at /usr/bin/chromium); the caller closes it. */
export function launchChromium(): Promise<Browser>;
