// Kernel strings (comm, paths) are hostile: make them safe to print on a terminal or in
// Markdown. Every C0/C1 control character, ESC, DEL, and every surrogate-escaped byte (see
// src/trace/kernel-string.ts) becomes a visible \xNN escape; lone surrogates that are not an
// escaped byte, bidi overrides and line separators become \u{XXXX}. Backslash is doubled so the
// escaped form is unambiguous. Output never contains a byte that can move the cursor or
// change the terminal's state.

const SURROGATE_BYTE_BASE = 0xdc00;

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function isBidiOrSeparator(cp: number): boolean {
  return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp === 0x2028 || cp === 0x2029 || cp === 0x200e || cp === 0x200f || cp === 0x061c;
}

/** True when sanitize would change nothing: the common case, checked without building a string. */
function isPlain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x5c || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff) || isBidiOrSeparator(c)) return false;
  }
  return true;
}

export function sanitize(s: string): string {
  if (isPlain(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A valid pair: a printable astral character.
        out += s[i]! + s[i + 1]!;
        i++;
        continue;
      }
      out += `\\u{${c.toString(16)}}`;
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      out += c >= SURROGATE_BYTE_BASE + 0x80 && c <= SURROGATE_BYTE_BASE + 0xff ? `\\x${hex2(c - SURROGATE_BYTE_BASE)}` : `\\u{${c.toString(16)}}`;
      continue;
    }
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f)) {
      out += `\\x${hex2(c)}`;
      continue;
    }
    if (c === 0x5c) {
      out += '\\\\';
      continue;
    }
    if (isBidiOrSeparator(c)) {
      out += `\\u{${c.toString(16)}}`;
      continue;
    }
    out += s[i]!;
  }
  return out;
}

/** sanitize, then escape what Markdown would interpret (tables, emphasis, code, links, HTML). */
export function sanitizeMarkdown(s: string): string {
  return sanitize(s).replace(/[|`*_[\]<>#~!()]/g, (ch) => (ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : `\\${ch}`));
}
