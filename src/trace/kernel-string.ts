// Kernel strings are bytes, not text: names may hold any byte but NUL (and '/' in a d_name).
// We decode them losslessly with "surrogateescape": valid UTF-8 is kept, each byte of an
// invalid sequence becomes U+DC80+byte. JSON.stringify writes lone surrogates as \udcXX, so
// the trace file round-trips every byte, and encodeKernelString gives the original bytes back.

const ESCAPE_BASE = 0xdc00;

export function decodeKernelBytes(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i]!;
    if (b0 < 0x80) {
      out += String.fromCharCode(b0);
      i += 1;
      continue;
    }
    const seqLen = b0 >= 0xc2 && b0 <= 0xdf ? 2 : b0 >= 0xe0 && b0 <= 0xef ? 3 : b0 >= 0xf0 && b0 <= 0xf4 ? 4 : 0;
    const cp = seqLen === 0 ? -1 : decodeSequence(bytes, i, seqLen);
    if (cp < 0) {
      out += String.fromCharCode(ESCAPE_BASE + b0);
      i += 1;
      continue;
    }
    out += String.fromCodePoint(cp);
    i += seqLen;
  }
  return out;
}

function decodeSequence(bytes: Uint8Array, at: number, len: number): number {
  if (at + len > bytes.length) return -1;
  const b0 = bytes[at]!;
  let cp = len === 2 ? b0 & 0x1f : len === 3 ? b0 & 0x0f : b0 & 0x07;
  for (let k = 1; k < len; k++) {
    const b = bytes[at + k]!;
    if ((b & 0xc0) !== 0x80) return -1;
    cp = (cp << 6) | (b & 0x3f);
  }
  // Reject overlongs, surrogates and values past U+10FFFF so decoding stays a bijection.
  const min = len === 2 ? 0x80 : len === 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  return cp;
}

export function encodeKernelString(s: string): Buffer {
  const parts: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= ESCAPE_BASE + 0x80 && cp <= ESCAPE_BASE + 0xff) {
      parts.push(cp - ESCAPE_BASE);
    } else {
      for (const b of Buffer.from(ch, 'utf8')) parts.push(b);
    }
  }
  return Buffer.from(parts);
}
