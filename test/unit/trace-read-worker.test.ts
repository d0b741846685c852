// The worker-thread reader (src/trace/worker-reader.ts, event-codec.ts) must hand out exactly the
// records the in-thread reader does: every kind and field, nulls and absent optional fields,
// hostile strings, file refs of both schemas, bad lines, truncation, and its string and file
// tables starting afresh when full. Fuzzed traces are compared in trace-fuzz.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticEvents } from '../../bench/synthetic-trace.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { TRAILER_MAGIC } from '../../src/trace/trace-format.js';
import { readTraceBatches, type TraceRecord } from '../../src/trace/trace-reader.js';
import { TraceEncoder } from '../../src/trace/trace-writer.js';
import { prestartTraceReading, suitsWorker } from '../../src/trace/worker-reading.js';
import { EVERY_KIND_EVENTS } from './fixtures/every-kind.fixture.js';
import { SLEEP, ev, file } from './fixtures/model-events.fixture.js';
import { testHeader } from './fixtures/trace-header.fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'read-worker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function traceFile(events: readonly TraceEvent[], schema: 1 | 2, extraLines: string[] = [], trailer = true): string {
  const enc = new TraceEncoder(schema);
  let text = enc.header(testHeader(schema)) + events.map((e) => enc.event(e)).join('') + extraLines.map((l) => `${l}\n`).join('');
  if (trailer) text += enc.line({ magic: TRAILER_MAGIC, endedAt: 'e', events: events.length, lostEvents: 0, parseIssues: 0, reason: 'signal', error: null });
  const p = join(dir, `t${n++}.trace`);
  writeFileSync(p, text);
  return p;
}

async function records(path: string, worker: boolean): Promise<{ all: TraceRecord[]; batches: number[] }> {
  const all: TraceRecord[] = [];
  const batches: number[] = [];
  for await (const b of readTraceBatches(path, { worker })) {
    batches.push(b.length);
    all.push(...b);
  }
  return { all, batches };
}

async function expectSameRecords(path: string): Promise<TraceRecord[]> {
  const inThread = await records(path, false);
  const inWorker = await records(path, true);
  // The first record that differs, alone: a diff of 70,000 records would take minutes to print.
  const at = inThread.all.findIndex((r, i) => !isDeepStrictEqual(r, inWorker.all[i]));
  if (at >= 0) expect({ at, record: inWorker.all[at] }).toEqual({ at, record: inThread.all[at] });
  expect(inWorker.all.length).toBe(inThread.all.length);
  // Consumers rely on small batches (GC): never more than the in-thread reader's size.
  expect(Math.max(...inWorker.batches)).toBeLessThanOrEqual(256);
  return inWorker.all;
}

const A = '0xffff888100000a00';
/** Every kind, plus the optional exec fields, a path-less file without pointer, -0 and an empty comm. */
const EVERY_KIND: TraceEvent[] = [
  ...EVERY_KIND_EVENTS,
  { ...ev.exec(201, 600, A, SLEEP), argv0: 'sleep\x1b]0;x\x07', exeMagic: 0x01021994, exeInternalMount: false, exeOverlayUpper: true },
  ev.mremap(202, 600, A, 0x10000, 0x1000, 0x2000, -12),
  { ...ev.attach(203, 602, '0xffff888100000c00', { ...SLEEP, path: null, pathTruncated: true, file: null }), ts: -0, comm: '' },
];

describe('the worker-thread trace reader', () => {
  it('hands out the in-thread records for every kind, in both schemas', async () => {
    for (const schema of [1, 2] as const) {
      const got = await expectSameRecords(traceFile(EVERY_KIND, schema));
      const kinds = new Set(got.flatMap((r) => (r.type === 'event' ? [r.event.kind] : [])));
      expect(kinds.size).toBe(14);
      expect(got.filter((r) => r.type === 'error')).toEqual([]);
    }
  });

  it('hands out bad lines, a partial last line and a missing trailer as the in-thread reader does', async () => {
    const bad = ['{"kind":"exec","ts":1}', 'not json', JSON.stringify({ ...EVERY_KIND[0], kind: 'nope' }), '{"kind":"file","id":0,"dev":1}'];
    const got = await expectSameRecords(traceFile(EVERY_KIND.slice(0, 20), 2, [...bad, '{"ts":'], false));
    expect(got.filter((r) => r.type === 'error').length).toBe(bad.length + 2);
    // Not a trace at all, and a file that is not there.
    const notTrace = join(dir, 'plain.txt');
    writeFileSync(notTrace, 'hello\n');
    await expectSameRecords(notTrace);
    await expectSameRecords(join(dir, 'missing.trace'));
  });

  it('starts its string and file tables afresh when they fill up, without losing a value', async () => {
    // 70,000 distinct comms and files: past the tables' 65,536 entries.
    const events: TraceEvent[] = [];
    for (let i = 0; i < 70_000; i++) {
      const f = file(0x801, 1_000_000 + i, `/usr/bin/p${i}`);
      events.push({ ...ev.mmExit(i, 1000 + (i % 50_000), `0xffff8881${(i * 64).toString(16).padStart(8, '0')}`, f), comm: `c${i}` });
    }
    const got = await expectSameRecords(traceFile(events, 2));
    const last = got.at(-2);
    expect(last?.type === 'event' && last.event.kind === 'mm_exit' ? [last.event.comm, last.event.exe?.path] : null).toEqual(['c69999', '/usr/bin/p69999']);
  });

  it('stops its worker when the reader stops early', async () => {
    const path = traceFile([...syntheticEvents(20_000)], 2);
    let seen = 0;
    for await (const b of readTraceBatches(path, { worker: true })) {
      seen += b.length;
      if (seen > 1000) break;
    }
    expect(seen).toBeGreaterThan(1000);
    // The generator's finally terminated the worker: reading again from the start works and ends.
    const again = await records(path, true);
    expect(again.all.at(-1)?.type).toBe('trailer');
  });

  it('takes the reading a command started ahead, once, and a reading never taken lets the process end', async () => {
    const path = traceFile([...syntheticEvents(5_000)], 2);
    expect(suitsWorker(path)).toBe(true);
    const inThread = await records(path, false);
    prestartTraceReading(path);
    // Its batches queue up while nothing reads: none may be lost or doubled.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const first = await records(path, true);
    const second = await records(path, true);
    for (const got of [first, second]) {
      expect(got.all.length).toBe(inThread.all.length);
      expect(isDeepStrictEqual(got.all, inThread.all)).toBe(true);
    }
    const script = `import { prestartTraceReading } from ${JSON.stringify(new URL('../../src/trace/worker-reading.ts', import.meta.url).href)};
prestartTraceReading(${JSON.stringify(path)}); setTimeout(() => console.log('left'), 200);`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(out).toBe('left\n');
  });
});
