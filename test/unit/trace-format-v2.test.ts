// Trace schema 2: the file dictionary. Writer → reader gives back the same events, the
// dictionary keeps paths out of event lines, schema 1 files still read, and bad dictionary
// use is a FILE:LINE error like any other bad line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticEvents, syntheticTrace } from '../../bench/synthetic-trace.js';
import { runAnalyze } from '../../src/cli/analyze.js';
import { FINDING_CLASSES } from '../../src/model/finding-classes.js';
import type { FileRef, TraceEvent } from '../../src/trace/events.js';
import { SCHEMA_VERSION, TRAILER_MAGIC, type TraceTrailer } from '../../src/trace/trace-format.js';
import { readTrace, type TraceRecord } from '../../src/trace/trace-reader.js';
import { TraceEncoder, TraceWriter } from '../../src/trace/trace-writer.js';
import { testHeader } from './fixtures/trace-header.fixture.js';
import { sink } from '../support/sink.js';

const dir = mkdtempSync(join(tmpdir(), 'exetrace-v2-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const path = (): string => join(dir, `t${n++}.trace`);

const header = testHeader;
const trailer: TraceTrailer = { magic: TRAILER_MAGIC, endedAt: 'e', events: 0, lostEvents: 0, parseIssues: 0, reason: 'signal', error: null };

const ref = (ino: number, p: string | null, file: string | null = '0xffff888100000001', o: Partial<FileRef> = {}): FileRef => ({
  file,
  dev: 0x10302,
  ino,
  name: (p ?? 'x').slice((p ?? 'x').lastIndexOf('/') + 1),
  path: p,
  pathTruncated: false,
  ...o,
});
const SLEEP = ref(11, '/usr/bin/sleep');
const LIBC = ref(12, '/usr/lib/x86_64-linux-gnu/libc.so.6');
const b = (ts: number) => ({ ts, pid: 100, tid: 100, comm: 'sleep' });

/** Every kind that carries a file ref, with repeats, other pointers, nulls and look-alike files. */
const events: TraceEvent[] = [
  { ...b(1), kind: 'exec', oldTid: 100, ppid: 1, mm: '0xffff888200000000', exe: SLEEP, startCode: 0x1000, endCode: 0x2000, filename: '/usr/bin/sleep' },
  { ...b(2), kind: 'mmap', mm: '0xffff888200000000', addr: 0x7f0000000000, len: 0x1000, prot: 5, flags: 0x812, fd: 3, pgoff: 0, file: LIBC },
  {
    ...b(3),
    kind: 'mmap',
    mm: '0xffff888200000000',
    addr: 0x7f0000100000,
    len: 0x1000,
    prot: 5,
    flags: 0x812,
    fd: 3,
    pgoff: 0,
    file: { ...LIBC, file: '0xffff888100000777' },
  },
  { ...b(4), kind: 'mmap', mm: '0xffff888200000000', addr: 0x7f0000200000, len: 0x1000, prot: 5, flags: 0x812, fd: 3, pgoff: 0, file: { ...LIBC, file: null } },
  { ...b(5), kind: 'mmap', mm: '0xffff888200000000', addr: 0x7f0000300000, len: 0x1000, prot: 3, flags: 0x22, fd: -1, pgoff: 0, file: null },
  // Same inode, another name or a truncated path: a distinct identity in the dictionary.
  { ...b(6), kind: 'mm_attach', ppid: 1, mm: '0xffff888200001000', exe: { ...SLEEP, path: null, pathTruncated: true } },
  { ...b(7), kind: 'prctl_mm', mm: '0xffff888200001000', subOption: 13, exeFd: 4, ret: 0, exeBefore: SLEEP, exeAfter: ref(13, '/tmp/new \u001b[31m\udcff') },
  { ...b(8), kind: 'mm_exit', mm: '0xffff888200001000', exe: null },
  { ...b(9), kind: 'mm_exit', mm: '0xffff888200000000', exe: SLEEP },
  { ...b(10), kind: 'exit', groupDead: true, exitCode: 0 },
];

async function all(p: string): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of readTrace(p)) out.push(r);
  return out;
}
const eventsOf = (r: TraceRecord[]) => r.flatMap((x) => (x.type === 'event' ? [x.event] : []));
const errorsOf = (r: TraceRecord[]) => r.flatMap((x) => (x.type === 'error' ? [[x.line, x.cause]] : []));

function writeWith(encoder: TraceEncoder, evs: TraceEvent[]): string {
  const p = path();
  writeFileSync(p, encoder.header(header(encoder.schemaVersion)) + evs.map((e) => encoder.event(e)).join('') + encoder.line(trailer));
  return p;
}

describe('trace schema 2', () => {
  it('is the version written, and TraceWriter → readTrace gives deep-equal events', async () => {
    expect(SCHEMA_VERSION).toBe(2);
    const p = path();
    const w = TraceWriter.create(p);
    w.onHeader(header(SCHEMA_VERSION));
    for (const e of events) w.onEvent(e);
    w.onEnd({ ...trailer, events: events.length });
    const r = await all(p);
    expect(errorsOf(r)).toEqual([]);
    expect(r[0]).toMatchObject({ type: 'header', header: { schemaVersion: 2 } });
    expect(eventsOf(r)).toEqual(events);
    expect(r.at(-1)).toMatchObject({ type: 'trailer', trailer: { events: events.length } });
    // Dictionary lines are not events and do not shift line numbers: they are lines like any other.
    const lines = readFileSync(p, 'utf8').trimEnd().split('\n');
    const dict = lines.filter((l) => l.startsWith('{"kind":"file"'));
    expect(dict).toHaveLength(4); // sleep, libc, sleep (truncated path), the new exe; none for null refs
    const execLine = r.find((x) => x.type === 'event' && x.event.kind === 'exec')!.line;
    expect(lines[execLine - 2]).toMatch(/^\{"kind":"file","id":0,.*"\/usr\/bin\/sleep"/);
    expect(lines[execLine - 1]).toContain('"exe":{"ref":0,"file":"0xffff888100000001"}');
  });

  it('writes each path once: the dictionary shrinks the file', () => {
    const evs = [...syntheticEvents(300)];
    const v1 = readFileSync(writeWith(new TraceEncoder(1), evs), 'utf8');
    const v2 = readFileSync(writeWith(new TraceEncoder(2), evs), 'utf8');
    expect(v2.length).toBeLessThan(v1.length * 0.85);
    expect(v2.split('"path":"/usr/bin/bash"').length - 1).toBe(1);
    expect(v1.split('"path":"/usr/bin/bash"').length - 1).toBeGreaterThan(300);
  });

  it('reads back the synthetic generator with no error, the same as its schema 1 twin', async () => {
    const p2 = path();
    const p1 = path();
    writeFileSync(p2, [...syntheticTrace(200, { live: 3 })].join(''));
    writeFileSync(p1, [...syntheticTrace(200, { live: 3, schemaVersion: 1 })].join(''));
    const [r2, r1] = [await all(p2), await all(p1)];
    expect(errorsOf(r2)).toEqual([]);
    expect(eventsOf(r2)).toEqual(eventsOf(r1));
    expect(eventsOf(r2)).toEqual([...syntheticEvents(200, { live: 3 })]);
  });

  it('names FILE:LINE for a ref to an unknown id and for a bad dictionary line, and reads on', async () => {
    const enc = new TraceEncoder(2);
    const good = enc.event(events[0]!); // dictionary line 2, exec line 3
    const lines = [
      enc.header(header(2)).trimEnd(),
      ...good.trimEnd().split('\n'),
      JSON.stringify({ ...events[8], exe: { ref: 9, file: '0xffff888100000001' } }),
      JSON.stringify({ kind: 'file', id: 1, dev: '8:1', ino: 5, name: 'x', path: '/x', pathTruncated: false }),
      JSON.stringify({ kind: 'file', id: 0, dev: 1, ino: 5, name: 'x', path: '/x', pathTruncated: false }),
      JSON.stringify({ ...events[8], exe: { ref: 'zero', file: null } }),
      JSON.stringify({ ...events[8], exe: { ref: 0, file: 'nothex' } }),
      JSON.stringify({ ...events[8], exe: { ref: 0, file: null } }),
      JSON.stringify(trailer),
    ];
    const p = path();
    writeFileSync(p, `${lines.join('\n')}\n`);
    const r = await all(p);
    expect(errorsOf(r)).toEqual([
      [4, 'mm_exit.exe refers to file id 9, which no earlier dictionary line defines'],
      [5, 'file.dev is not an integer'],
      [6, 'file id 0 is defined twice'],
      [7, 'mm_exit.exe.ref is not a non-negative integer'],
      [8, 'mm_exit.exe.file is not a 0x hex string or null'],
    ]);
    expect(eventsOf(r).map((e) => e.kind)).toEqual(['exec', 'mm_exit']);
    expect(eventsOf(r)[1]).toMatchObject({ exe: { ...SLEEP, file: null } });

    const out = sink();
    const err = sink();
    expect(await runAnalyze(p, { format: 'text', lenient: true }, out.stream, err.stream)).toBe(0);
    expect(err.text()).toContain(`${p}:4: mm_exit.exe refers to file id 9, which no earlier dictionary line defines\n`);
    expect(err.text()).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('the bundled sample', () => {
  it('the bundled sample analyses without a bad line and holds every finding class', async () => {
    const out = sink();
    const err = sink();
    expect(await runAnalyze('samples/lab.trace.jsonl', { format: 'json' }, out.stream, err.stream)).toBe(0);
    expect(err.text()).toBe('');
    const report = JSON.parse(out.text()) as { trace: { header: { schemaVersion: number } }; counts: { byClass: Record<string, number> } };
    expect(report.trace.header.schemaVersion).toBe(SCHEMA_VERSION);
    for (const c of FINDING_CLASSES) expect(report.counts.byClass[c], c).toBeGreaterThan(0);
  });
});

describe('trace schema 1 (still read)', () => {
  it('reads inline file refs unchanged, and a dictionary line is an unknown kind there', async () => {
    const p = writeWith(new TraceEncoder(1), events);
    expect(readFileSync(p, 'utf8')).not.toContain('"ref":');
    const r = await all(p);
    expect(r[0]).toMatchObject({ type: 'header', header: { schemaVersion: 1 } });
    expect(errorsOf(r)).toEqual([]);
    expect(eventsOf(r)).toEqual(events);

    const q = path();
    writeFileSync(
      q,
      [
        JSON.stringify(header(1)),
        JSON.stringify({ kind: 'file', id: 0, dev: 1, ino: 2, name: 'a', path: '/a', pathTruncated: false }),
        JSON.stringify({ ...events[8], exe: { ref: 0, file: null } }),
        JSON.stringify(trailer),
      ].join('\n') + '\n',
    );
    expect(errorsOf(await all(q))).toEqual([
      [2, expect.stringMatching(/^unknown event kind "file" \(/)],
      // A compact ref needs the dictionary schema 1 does not have.
      [3, 'mm_exit.exe is a dictionary ref, but schema 1 traces have no dictionary'],
    ]);
  });
});
