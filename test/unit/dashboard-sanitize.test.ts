import { describe, expect, it } from 'vitest';
import { sanitizeForDisplay } from '../../dashboards/sanitize-display.js';
import { cell, clip } from '../../dashboards/format.js';
import { decodeKernelBytes } from '../../src/trace/kernel-string.js';

/** Characters that must never reach the terminal raw. */
function dangerous(s: string): string[] {
  const bad: string[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp <= 0x9f)) bad.push(ch);
    else if (cp >= 0xd800 && cp <= 0xdfff) bad.push(ch);
    else if ([0x061c, 0x200e, 0x200f, 0x2028, 0x2029].includes(cp) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) bad.push(ch);
  }
  return bad;
}

describe('sanitizeForDisplay', () => {
  it('escapes ESC sequences, newlines, C0, C1 and DEL visibly', () => {
    expect(sanitizeForDisplay('a\x1b[2Jb')).toBe('a\\x1b[2Jb');
    expect(sanitizeForDisplay('\x1b]0;pwned\x07')).toBe('\\x1b]0;pwned\\x07');
    expect(sanitizeForDisplay('line1\nline2\r')).toBe('line1\\x0aline2\\x0d');
    expect(sanitizeForDisplay('\x9b31m\x7f\x00')).toBe('\\x9b31m\\x7f\\x00');
    expect(sanitizeForDisplay('tab\there')).toBe('tab\\x09here');
  });

  it('escapes bidi overrides and line separators', () => {
    expect(sanitizeForDisplay('evil\u202etxt.exe')).toBe('evil\\u{202e}txt.exe');
    expect(sanitizeForDisplay('a\u2066b\u2069\u2028')).toBe('a\\u{2066}b\\u{2069}\\u{2028}');
  });

  it('shows surrogateescape bytes as \\xNN and other lone surrogates as code points', () => {
    const s = decodeKernelBytes(Uint8Array.from([0x66, 0xff, 0x6f, 0xc3]));
    expect(sanitizeForDisplay(s)).toBe('f\\xffo\\xc3');
    expect(sanitizeForDisplay('x\ud800y')).toBe('x\\u{d800}y');
  });

  it('keeps ordinary text, UTF-8 and astral characters, and doubles backslashes', () => {
    expect(sanitizeForDisplay('/usr/bin/sleep')).toBe('/usr/bin/sleep');
    expect(sanitizeForDisplay('café 日本 😀')).toBe('café 日本 😀');
    expect(sanitizeForDisplay('a\\x1b')).toBe('a\\\\x1b');
    expect(sanitizeForDisplay(null)).toBe('');
  });

  it('leaves nothing dangerous for any BMP code point', () => {
    let all = '';
    for (let cp = 0; cp < 0x10000; cp++) all += String.fromCharCode(cp);
    expect(dangerous(all).length).toBeGreaterThan(100); // the check itself sees them
    expect(dangerous(sanitizeForDisplay(all))).toEqual([]);
  });

  it('cell and clip sanitize before they cut, so an escape is never cut into a raw ESC', () => {
    expect(cell('\x1b[31mred', 6)).toBe('\\x1b[…');
    expect(cell('ab', 4)).toBe('ab  ');
    expect(clip('a\nb', 10)).toBe('a\\x0ab');
    expect(dangerous(cell('\x1b\x1b\x1b', 2))).toEqual([]);
  });
});
