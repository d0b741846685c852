// Property-based: mutated traces (byte flips, cuts, reordered, dropped or repeated lines, fields
// retyped, huge values, control characters, some gzip-compressed and cut again) thrown at the
// reader, the reducer, the report writers and the line printer. Nothing may throw, hang or
// print a character that can drive a terminal. Failures print fast-check's seed and the
// shrunk mutation; FC_SEED=N reruns one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { exetraceModel } from '../../dashboards/exetrace-model.js';
import { LinePrinter } from '../../dashboards/line-printer.js';
import { runAnalyze } from '../../src/cli/analyze.js';
import { initialState, reduce } from '../../src/model/index.js';
import { analyzeTrace } from '../../src/report/analyze-trace.js';
import { TRAILER_MAGIC } from '../../src/trace/trace-format.js';
import { EventDecoder, EventEncoder } from '../../src/trace/event-codec.js';
import { readTrace, readTraceBatches, replayTrace, type TraceRecord } from '../../src/trace/trace-reader.js';
import { TraceEncoder } from '../../src/trace/trace-writer.js';
import { EVERY_KIND_EVENTS } from './fixtures/every-kind.fixture.js';
import { testHeader } from './fixtures/trace-header.fixture.js';
import { sink } from '../support/sink.js';

const dir = mkdtempSync(join(tmpdir(), 'reader-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What may never reach a terminal: C0 but \t \n, DEL, C1, bidi controls, line separators, lone surrogates. */
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|\p{Cs}/u;

/** Every kind, with findings to report (a decoy mapping, a deleted exe) and hostile strings. */
const SEED_EVENTS = EVERY_KIND_EVENTS;

function traceLines(schema: 1 | 2): string[] {
  const enc = new TraceEncoder(schema);
  const trailer = { magic: TRAILER_MAGIC, endedAt: 'e', events: SEED_EVENTS.length, lostEvents: 10, parseIssues: 0, reason: 'signal', error: null };
  const text = enc.header(testHeader(schema)) + SEED_EVENTS.map((e) => enc.event(e)).join('') + enc.line(trailer);
  return text.split('\n').slice(0, -1);
}
const BASES = [traceLines(2), traceLines(1)];

const HUGE: unknown[] = [1e308, -1e308, 2 ** 53, 2 ** 53 + 2, -(2 ** 64), Number.MIN_VALUE, 0.5, -0, 1e21, 'A'.repeat(20_000), [], {}, null, true];
const CONTROL = ['\x00', '\x07', '\x08', '\x1b[2J', '\x1b]0;pwn\x07', '\r', '\n', '\x7f', '\x9b', '\u0085', '\u202e', '\u2028', '\udcff', '\ud800', '\t'];

type Op =
  | { t: 'flip'; at: number; xor: number }
  | { t: 'cut'; at: number }
  | { t: 'swap'; i: number; j: number }
  | { t: 'drop'; i: number }
  | { t: 'repeat'; i: number }
  | { t: 'retype'; i: number; pick: number; value: unknown }
  | { t: 'huge'; i: number; pick: number; value: unknown }
  | { t: 'control'; i: number; pick: number; text: string }
  | { t: 'nest'; i: number; depth: number };

const idx = fc.nat({ max: 1 << 20 });
const frac = fc.double({ min: 0, max: 1, noNaN: true });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('flip' as const), at: frac, xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ t: fc.constant('cut' as const), at: frac }),
  fc.record({ t: fc.constant('swap' as const), i: idx, j: idx }),
  fc.record({ t: fc.constant('drop' as const), i: idx }),
  fc.record({ t: fc.constant('repeat' as const), i: idx }),
  fc.record({ t: fc.constant('retype' as const), i: idx, pick: idx, value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ t: fc.constant('huge' as const), i: idx, pick: idx, value: fc.constantFrom(...HUGE) }),
  fc.record({
    t: fc.constant('control' as const),
    i: idx,
    pick: idx,
    text: fc.array(fc.constantFrom(...CONTROL), { minLength: 1, maxLength: 4 }).map((a) => a.join('')),
  }),
  fc.record({ t: fc.constant('nest' as const), i: idx, depth: fc.integer({ min: 50, max: 1000 }) }),
);

/** Every place in a parsed line a value can go: [container, key]. */
function slots(v: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []): [Record<string, unknown> | unknown[], string | number][] {
  if (typeof v !== 'object' || v === null) return out;
  for (const [k, x] of Object.entries(v)) {
    out.push([v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k]);
    slots(x, out);
  }
  return out;
}

/** Replace one value of line i (parsed as JSON) with what `f` makes of it. */
function editLine(lines: string[], i: number, pick: number, f: (old: unknown) => unknown): void {
  if (lines.length === 0) return;
  const at = i % lines.length;
  let parsed: unknown;
  try {
    parsed = JSON.parse(lines[at]!);
  } catch {
    return; // already broken by an earlier op
  }
  const s = slots(parsed);
  if (s.length === 0) return;
  const [container, key] = s[pick % s.length]!;
  (container as Record<string | number, unknown>)[key] = f((container as Record<string | number, unknown>)[key]);
  lines[at] = JSON.stringify(parsed);
}

interface Mutation {
  base: number;
  ops: Op[];
  gzip: boolean;
  gzipCut: number | null;
}

function apply(m: Mutation): Buffer {
  const lines = [...BASES[m.base]!];
  const bytesOps: Op[] = [];
  for (const op of m.ops) {
    const n = lines.length;
    switch (op.t) {
      case 'swap':
        if (n > 1) [lines[op.i % n], lines[op.j % n]] = [lines[op.j % n]!, lines[op.i % n]!];
        break;
      case 'drop':
        if (n > 0) lines.splice(op.i % n, 1);
        break;
      case 'repeat':
        if (n > 0) lines.splice(op.i % n, 0, lines[op.i % n]!);
        break;
      case 'retype':
        editLine(lines, op.i, op.pick, () => op.value);
        break;
      case 'huge':
        editLine(lines, op.i, op.pick, () => op.value);
        break;
      case 'control':
        editLine(lines, op.i, op.pick, (old) => (typeof old === 'string' ? old.slice(0, 1) + op.text + old.slice(1) : op.text));
        break;
      case 'nest':
        editLine(lines, op.i, 0, () => JSON.parse('['.repeat(op.depth) + ']'.repeat(op.depth)));
        break;
      default:
        bytesOps.push(op);
    }
  }
  let bytes = Buffer.from(lines.length > 0 ? `${lines.join('\n')}\n` : '', 'utf8');
  for (const op of bytesOps) {
    if (bytes.length === 0) break;
    if (op.t === 'flip') bytes[Math.floor(op.at * (bytes.length - 1))]! ^= op.xor;
    else if (op.t === 'cut') bytes = bytes.subarray(0, Math.floor(op.at * bytes.length));
  }
  if (m.gzip) {
    bytes = gzipSync(bytes);
    if (m.gzipCut !== null) bytes = bytes.subarray(0, Math.floor(m.gzipCut * bytes.length));
  }
  return bytes;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  base: fc.integer({ min: 0, max: BASES.length - 1 }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 5 }),
  gzip: fc.boolean(),
  gzipCut: fc.option(frac, { freq: 3 }),
});

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : undefined;
let n = 0;
const write = (m: Mutation): string => {
  const p = join(dir, `m${n++ % 8}.trace`);
  writeFileSync(p, apply(m));
  return p;
};

describe('fuzzed traces', () => {
  it('the base traces are clean (so every error below comes from a mutation)', async () => {
    for (let base = 0; base < BASES.length; base++) {
      const r = await analyzeTrace(write({ base, ops: [], gzip: false, gzipCut: null }));
      expect(r.parseErrors).toBe(0);
      expect(r.trailer).not.toBeNull();
      expect(r.report.findings.length).toBeGreaterThan(0);
    }
  });

  it('10,000 mutated traces: the reader and the reducer never throw, every record is well formed', async () => {
    let events = 0;
    let errors = 0;
    await fc.assert(
      fc.asyncProperty(mutationArb, async (m) => {
        // From memory (the reader's `source`): the file layer adds nothing here but time.
        const bytes = apply(m);
        const source = (async function* () {
          yield bytes;
        })();
        let line = 0;
        let state = initialState();
        let read = 0;
        for await (const rec of readTrace('fuzz.trace', { source })) {
          // Plain checks, not expect(): this loop runs some 300,000 times.
          if (!['header', 'event', 'trailer', 'error'].includes(rec.type)) throw new Error(`record type ${rec.type}`);
          if (!Number.isSafeInteger(rec.line) || rec.line < line) throw new Error(`line ${rec.line} after ${line}`);
          line = rec.line;
          if (rec.type === 'error') {
            errors++;
            if (typeof rec.cause !== 'string' || rec.cause === '' || rec.raw.length > 301) throw new Error(`bad error record ${JSON.stringify(rec)}`);
          } else if (rec.type === 'event') {
            events++;
            read++;
            state = reduce(state, rec.event);
          }
        }
        if (state.counters.events !== read) throw new Error(`reducer counted ${state.counters.events} of ${read} events`);
      }),
      { numRuns: 10_000, seed, endOnFailure: true },
    );
    // The mutations reached both sides: many events read, many lines refused.
    expect(events).toBeGreaterThan(10_000);
    expect(errors).toBeGreaterThan(1_000);
  }, 240_000);

  it('2,000 mutated traces: records through the worker reader codec come out as they went in', async () => {
    // The codec in this thread (the worker's plumbing is tested in trace-read-worker.test.ts):
    // small batches, so table entries and extras cross many batch boundaries.
    await fc.assert(
      fc.asyncProperty(mutationArb, async (m) => {
        const bytes = apply(m);
        const source = (async function* () {
          yield bytes;
        })();
        const records: TraceRecord[] = [];
        for await (const b of readTraceBatches('fuzz.trace', { source })) records.push(...b);
        const encoder = new EventEncoder(7);
        const decoder = new EventDecoder();
        const decoded: TraceRecord[] = [];
        const drain = (): void => {
          for (const b of decoder.records(encoder.take(), 3)) decoded.push(...b);
        };
        for (const r of records) {
          encoder.add(r);
          if (encoder.full) drain();
        }
        drain();
        expect(decoded).toEqual(records);
      }),
      { numRuns: 2_000, seed, endOnFailure: true },
    );
  }, 240_000);

  it('1,000 mutated traces through analyze (text, markdown) and replay: no unsanitised control character reaches the output', async () => {
    await fc.assert(
      fc.asyncProperty(mutationArb, fc.constantFrom('text' as const, 'markdown' as const), async (m, format) => {
        const p = write(m);
        const out = sink();
        const err = sink();
        const code = await runAnalyze(p, { format, lenient: true }, out.stream, err.stream);
        expect([0, 2]).toContain(code);
        expect(out.text()).not.toMatch(UNSAFE);
        expect(err.text()).not.toMatch(UNSAFE);
        expect(err.text()).not.toMatch(/\n\s+at /);
        const lines = sink();
        const issues = sink();
        const printer = new LinePrinter(exetraceModel, { out: lines.stream, err: issues.stream, events: true });
        await replayTrace(p, printer);
        printer.flush();
        expect(lines.text()).not.toMatch(UNSAFE);
        expect(issues.text()).not.toMatch(UNSAFE);
      }),
      { numRuns: 1_000, seed, endOnFailure: true },
    );
  }, 240_000);
});
