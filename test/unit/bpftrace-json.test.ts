import { describe, it, expect } from 'vitest';
import { parseBpftraceJsonLine, repairByteEscapes } from '../../src/trace/bpftrace-json.js';

const printf = (data: string) => `{"type": "printf", "data": "${data}"}`;

describe('parseBpftraceJsonLine', () => {
  it('undoes 0.17\'s escaping byte for byte (measured comm we"ir\\d<LF>na<0xff>me)', () => {
    const r = parseBpftraceJsonLine(printf(String.raw`we\"ir\\d\nna\uffffffffme`));
    expect(r).toEqual({ type: 'printf', data: Buffer.from([...Buffer.from('we"ir\\d\nna'), 0xff, ...Buffer.from('me')]) });
  });

  it('keeps every byte 0x01..0xff through 0.17 escaping', () => {
    // Build what 0.17 prints for each byte: \" \\ \n \t \u00XX for controls, \uffffffXX for >= 0x80.
    let esc = '';
    const bytes: number[] = [];
    for (let b = 1; b < 256; b++) {
      bytes.push(b);
      if (b === 0x22) esc += '\\"';
      else if (b === 0x5c) esc += '\\\\';
      else if (b === 0x0a) esc += '\\n';
      else if (b < 0x20 || b === 0x7f) esc += '\\u' + b.toString(16).padStart(4, '0');
      else if (b >= 0x80) esc += '\\uffffff' + b.toString(16);
      else esc += String.fromCharCode(b);
    }
    const r = parseBpftraceJsonLine(printf(esc));
    expect(r.type === 'printf' && [...r.data]).toEqual(bytes);
  });

  it('does not mistake an escaped backslash followed by "uffffffff" for a byte escape', () => {
    const r = parseBpftraceJsonLine(printf(String.raw`a\\uffffffff`));
    expect(r.type === 'printf' && r.data.toString('latin1')).toBe('a\\uffffffff');
  });

  it('accepts correct JSON from newer bpftrace: raw UTF-8 stays UTF-8, \\u00XX escapes are bytes', () => {
    const r = parseBpftraceJsonLine(printf('é\\u00e9'));
    expect(r.type === 'printf' && [...r.data]).toEqual([0xc3, 0xa9, 0xe9]);
  });

  it('reads lost_events and attached_probes', () => {
    expect(parseBpftraceJsonLine('{"type": "lost_events", "data": {"events": 42}}')).toEqual({ type: 'lost_events', events: 42 });
    expect(parseBpftraceJsonLine('{"type": "attached_probes", "data": {"probes": 31}}')).toEqual({ type: 'attached_probes', probes: 31 });
  });

  it('returns other record types as "other"', () => {
    expect(parseBpftraceJsonLine('{"type": "map", "data": {"@x": 1}}')).toEqual({ type: 'other', recordType: 'map', value: { '@x': 1 } });
  });

  it.each([
    ['', /empty/],
    ['{"type": "printf", "data": "trunc', /not JSON/],
    ['[1,2]', /not an object/],
    ['{"data": "x"}', /not an object with a string "type"/],
    ['{"type": "printf", "data": 5}', /without a string "data"/],
    ['{"type": "lost_events", "data": {"events": -1}}', /valid data.events/],
    ['{"type": "lost_events", "data": {"events": 1e300}}', /valid data.events/],
    ['{"type": "attached_probes"}', /valid data.probes/],
  ])('never throws on %j', (line, cause) => {
    const r = parseBpftraceJsonLine(line);
    expect(r.type).toBe('error');
    expect(r.type === 'error' && r.cause).toMatch(cause);
  });

  it('repairByteEscapes leaves lines without byte escapes untouched', () => {
    const line = printf(String.raw`H exec 1 2 3 0 \"x\"`);
    expect(repairByteEscapes(line)).toBe(line);
  });
});
