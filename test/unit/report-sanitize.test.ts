import { describe, expect, it } from 'vitest';
import { sanitize, sanitizeMarkdown } from '../../src/report/sanitize.js';
import { decodeKernelBytes } from '../../src/trace/kernel-string.js';

// Anything that can move the cursor or change terminal state.
const DANGEROUS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udfff]/;

describe('sanitize', () => {
  it('escapes ESC sequences, C0, DEL and C1 as visible \\xNN', () => {
    expect(sanitize('a\x1b[2Jb')).toBe('a\\x1b[2Jb');
    expect(sanitize('x\ny\rz\t\x00\x7f\x9b')).toBe('x\\x0ay\\x0dz\\x09\\x00\\x7f\\x9b');
  });

  it('shows surrogate-escaped kernel bytes as \\xNN and keeps valid UTF-8', () => {
    const s = decodeKernelBytes(Uint8Array.from([0x68, 0xff, 0xc3, 0xa9, 0xe2, 0x82]));
    expect(sanitize(s)).toBe('h\\xffé\\xe2\\x82');
    expect(sanitize('emoji 😀 ok')).toBe('emoji 😀 ok');
  });

  it('escapes lone surrogates, bidi overrides, line separators; doubles backslash', () => {
    expect(sanitize('\ud800x')).toBe('\\u{d800}x');
    expect(sanitize('a\u202eb\u2028')).toBe('a\\u{202e}b\\u{2028}');
    expect(sanitize('a\\x1b')).toBe('a\\\\x1b');
  });

  it('never lets a dangerous code unit through, for every code unit', () => {
    const leaks: string[] = [];
    for (let c = 0; c < 0x10000; c++) {
      if (DANGEROUS.test(sanitize(`a${String.fromCharCode(c)}b`))) leaks.push(`U+${c.toString(16)}`);
    }
    expect(leaks).toEqual([]);
  });

  it('markdown: table pipes, backticks and HTML are neutralised', () => {
    expect(sanitizeMarkdown('a|b`c<script>*x*\n')).toBe('a\\|b\\`c&lt;script&gt;\\*x\\*\\x0a');
  });
});
