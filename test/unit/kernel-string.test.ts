import { describe, it, expect } from 'vitest';
import { decodeKernelBytes, encodeKernelString } from '../../src/trace/kernel-string.js';

describe('kernel strings (surrogateescape)', () => {
  it('keeps valid UTF-8 as text', () => {
    expect(decodeKernelBytes(Buffer.from('héllo ✓ 𝄞', 'utf8'))).toBe('héllo ✓ 𝄞');
  });

  it('escapes invalid bytes to U+DC80..U+DCFF', () => {
    expect(decodeKernelBytes(Buffer.from([0x61, 0xff, 0x80, 0x62]))).toBe('a\udcff\udc80b');
  });

  it('rejects overlongs, surrogates and truncated sequences so decoding is a bijection', () => {
    for (const bytes of [
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xe2, 0x82],
      [0xf4, 0x90, 0x80, 0x80],
    ]) {
      const s = decodeKernelBytes(Buffer.from(bytes));
      expect([...s].every((c) => c.codePointAt(0)! >= 0xdc80 && c.codePointAt(0)! <= 0xdcff)).toBe(true);
      expect(encodeKernelString(s)).toEqual(Buffer.from(bytes));
    }
  });

  it('round-trips every single byte and random byte strings, also through JSON', () => {
    for (let b = 1; b < 256; b++) {
      const s = decodeKernelBytes(Buffer.from([b]));
      expect(encodeKernelString(JSON.parse(JSON.stringify(s)))).toEqual(Buffer.from([b]));
    }
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let n = 0; n < 500; n++) {
      const bytes = Buffer.from(Array.from({ length: 1 + (rnd() % 40) }, () => 1 + (rnd() % 255)));
      expect(encodeKernelString(decodeKernelBytes(bytes))).toEqual(bytes);
    }
  });
});
