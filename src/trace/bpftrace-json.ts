// One stdout line of `bpftrace -f json` → a typed record. bpftrace 0.17 writes each byte
// >= 0x80 of a string as `\uffffffXX` (a sign-extension bug, invalid JSON); we undo that and
// recover printf data byte for byte. Correct JSON from newer bpftrace is accepted too.
// Never throws: malformed input becomes an `error` record with a cause.

export type BpftraceRecord =
  | { type: 'printf'; data: Buffer }
  | { type: 'lost_events'; events: number }
  | { type: 'attached_probes'; probes: number }
  /** A BPF helper failed in the program: printed by default since 0.23 (0.17: only with -k). */
  | { type: 'helper_error'; helper: string; retcode: number; line: number | null; message: string | null }
  | { type: 'other'; recordType: string; value: unknown }
  | { type: 'error'; cause: string };

/**
 * Rewrites byte escapes into surrogate escapes `\udcXX`: 0.17's `\uffffffXX` and `\u0080`..`\u00ff`
 * (bpftrace escapes bytes, not characters). Raw characters and other escapes are untouched, so
 * after JSON.parse, U+DC80..U+DCFF are exactly the escaped bytes.
 */
export function repairByteEscapes(line: string): string {
  if (!line.includes('\\u')) return line;
  let out = '';
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (!inString) {
      if (ch === '"') inString = true;
      out += ch;
      continue;
    }
    if (ch === '"') {
      inString = false;
      out += ch;
      continue;
    }
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = line[i + 1];
    if (next === 'u' && /^ffffff[0-9a-fA-F]{2}$/i.test(line.slice(i + 2, i + 10))) {
      const byte = parseInt(line.slice(i + 8, i + 10), 16);
      // 0.17 sign-extends every byte >= 0x80; smaller values cannot come out this way.
      out += byte >= 0x80 ? '\\udc' + line.slice(i + 8, i + 10) : '\\u00' + line.slice(i + 8, i + 10);
      i += 9;
      continue;
    }
    if (next === 'u' && /^00[89a-fA-F][0-9a-fA-F]$/.test(line.slice(i + 2, i + 6))) {
      out += '\\udc' + line.slice(i + 4, i + 6);
      i += 5;
      continue;
    }
    // Copy any other escape pair verbatim so an escaped backslash is never re-read.
    out += ch + (next ?? '');
    i += 1;
  }
  return out;
}

/** A decoded (repaired) JSON string → the bytes bpftrace printed: U+DC80..U+DCFF are bytes, the rest UTF-8. */
export function jsonStringToBytes(s: string): Buffer {
  const bytes: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) bytes.push(cp);
    else if (cp >= 0xdc80 && cp <= 0xdcff) bytes.push(cp - 0xdc00);
    else for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
  }
  return Buffer.from(bytes);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function countField(data: unknown, field: string): number | null {
  if (!isRecord(data)) return null;
  const n = data[field];
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

export function parseBpftraceJsonLine(line: string): BpftraceRecord {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.trim() === '') return { type: 'error', cause: 'empty line' };
  let value: unknown;
  try {
    value = JSON.parse(repairByteEscapes(text));
  } catch (err) {
    return { type: 'error', cause: `not JSON: ${(err as Error).message}` };
  }
  if (!isRecord(value) || typeof value.type !== 'string') {
    return { type: 'error', cause: 'JSON value is not an object with a string "type"' };
  }
  switch (value.type) {
    case 'printf':
      if (typeof value.data !== 'string') return { type: 'error', cause: 'printf record without a string "data"' };
      return { type: 'printf', data: jsonStringToBytes(value.data) };
    case 'lost_events': {
      const n = countField(value.data, 'events');
      if (n === null) return { type: 'error', cause: 'lost_events record without a valid data.events count' };
      return { type: 'lost_events', events: n };
    }
    case 'attached_probes': {
      const n = countField(value.data, 'probes');
      if (n === null) return { type: 'error', cause: 'attached_probes record without a valid data.probes count' };
      return { type: 'attached_probes', probes: n };
    }
    case 'helper_error': {
      // 0.23: {"type": "helper_error", "msg": "...", "helper": "map_delete_elem", "retcode": -2, "line": 10, "col": 3}; 0.17 has no "msg".
      if (typeof value.helper !== 'string' || typeof value.retcode !== 'number')
        return { type: 'error', cause: 'helper_error record without "helper" and "retcode"' };
      return {
        type: 'helper_error',
        helper: value.helper,
        retcode: value.retcode,
        line: typeof value.line === 'number' ? value.line : null,
        message: typeof value.msg === 'string' ? value.msg : null,
      };
    }
    default:
      return { type: 'other', recordType: value.type, value: value.data };
  }
}
