// Headless Chromium for the tests that look at what a browser draws (the HTML report). Without
// Chromium such a test skips, unless EXETRACE_REQUIRE_LIVE=1 (CI), where it must fail instead.
import { existsSync } from 'node:fs';
import { requireLive } from './live-gate.js';

/** Debian's package `chromium` (scripts/setup.sh installs it). */
export const CHROMIUM = process.env.EXETRACE_CHROMIUM ?? '/usr/bin/chromium';

/** Use as `describe.skipIf(skipWithoutChromium())(...)`: true means skip; throws under EXETRACE_REQUIRE_LIVE=1. */
export function skipWithoutChromium(): boolean {
  if (existsSync(CHROMIUM)) return false;
  const reason = `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`;
  if (requireLive) throw new Error(`browser test cannot run but EXETRACE_REQUIRE_LIVE=1: ${reason}`);
  return true;
}
