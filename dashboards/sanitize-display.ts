// Kernel strings (comm, paths) are hostile: a process can name itself "\x1b]0;pwned\x07" or put
// a newline in its file name. Everything the dashboard or the line printer shows goes through
// here. ink's <Text> keeps SGR and OSC sequences, so it is no defence on its own.
// One sanitizer for the whole project: this re-exports src/report/sanitize.ts (visible \xNN and
// \u{XXXX} escapes for ESC, C0/C1, DEL, newlines, bidi controls, lone surrogates), adding only
// tolerance for absent values.
import { sanitize } from '../src/report/sanitize.js';

/** A string that is safe to write to a terminal: no control, bidi or lone-surrogate characters. */
export function sanitizeForDisplay(s: string | null | undefined): string {
  return s === null || s === undefined ? '' : sanitize(s);
}
