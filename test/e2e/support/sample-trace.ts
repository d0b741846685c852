// Writes a small but realistic trace file (header, events, trailer per
// src/trace/trace-format.ts) for replay tests: ordinary execs, one program started through
// ld.so (loader-exec), one whose exe was deleted (exe-deleted), and one whose comm and exe
// name carry terminal escapes, a newline and control characters.
import { writeFileSync } from 'node:fs';
import type { FileRef, TraceEvent } from '../../../src/trace/events.js';
import { SCHEMA_VERSION, TRACE_MAGIC, TRAILER_MAGIC, type TraceHeader, type TraceTrailer } from '../../../src/trace/trace-format.js';

export const HOSTILE_COMM = '\x1b[2J\x1b]0;pwn\x07ev\nil';
export const HOSTILE_PATH = '/tmp/\x1b[31mred\x1b[0m\r\x7fname\u202e';

const T0 = 5_000_000_000_000; // ns on CLOCK_MONOTONIC
const file = (path: string, ino: number): FileRef => ({
  file: `0xffff8881${ino.toString(16).padStart(8, '0')}`,
  dev: 0x800001,
  ino,
  name: path.slice(path.lastIndexOf('/') + 1),
  path,
  pathTruncated: false,
});

function exec(i: number, pid: number, comm: string, exe: FileRef, ts: number): TraceEvent[] {
  const mm = `0xffff8882${(0x1000 + i).toString(16).padStart(8, '0')}`;
  return [
    { kind: 'exec_begin', ts: ts - 1000, pid, tid: pid, comm: 'bash', oldMm: null, filename: exe.path!, interp: exe.path! },
    { kind: 'exec', ts, pid, tid: pid, comm, oldTid: pid, ppid: 1, mm, exe, startCode: 0x400000, endCode: 0x401000, filename: exe.path! },
  ];
}

export interface SampleTraceOptions {
  /** Ordinary processes besides the three interesting ones. */
  plain?: number;
  /** Nanoseconds between events (paces --speed replays). */
  stepNs?: number;
  /** Leave the trailer off (a cut-short trace). */
  truncated?: boolean;
}

export function sampleEvents(opts: SampleTraceOptions = {}): TraceEvent[] {
  const step = opts.stepNs ?? 10_000_000;
  let ts = T0;
  const next = (): number => (ts += step);
  const events: TraceEvent[] = [];
  const plain = opts.plain ?? 5;
  for (let i = 0; i < plain; i++) events.push(...exec(i, 1000 + i, `worker${i}`, file('/usr/bin/sleep', 500), next()));
  const ldso = file('/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 600);
  events.push(...exec(100, 2000, 'ld-linux-x86-64', ldso, next()));
  // What proves it a loader: the kernel mapped no interpreter (AT_BASE 0) and its ELF is a
  // shared object without PT_INTERP.
  events.push({
    kind: 'proc_snapshot',
    ts: next(),
    pid: 2000,
    tid: 2000,
    comm: 'ld-linux-x86-64',
    reason: 'exec',
    exeLink: ldso.path,
    exeError: null,
    exeDev: ldso.dev,
    exeIno: ldso.ino,
    maps: [{ start: 0x7f0000001000, end: 0x7f0000027000, perms: 'r-xp', offset: 0x1000, dev: ldso.dev, ino: ldso.ino, path: ldso.path! }],
    interpBase: 0,
    exeElf: 'shared-object',
    exeNlink: 1,
  });
  events.push(...exec(101, 3000, HOSTILE_COMM, file(HOSTILE_PATH, 700), next()));
  const gone = file('/tmp/vanishing', 800);
  events.push(...exec(102, 4000, 'vanishing', gone, next()));
  events.push({
    kind: 'proc_snapshot',
    ts: next(),
    pid: 4000,
    tid: 4000,
    comm: 'vanishing',
    reason: 'exe_read',
    exeLink: '/tmp/vanishing (deleted)',
    exeError: null,
    exeDev: gone.dev,
    exeIno: gone.ino,
    maps: [{ start: 0x400000, end: 0x401000, perms: 'r-xp', offset: 0, dev: gone.dev, ino: gone.ino, path: '/tmp/vanishing (deleted)' }],
    exeNlink: 0,
  });
  events.push({ kind: 'gap', ts: next(), lost: 3, source: 'bpftrace' });
  return events;
}

export function writeSampleTrace(path: string, opts: SampleTraceOptions = {}): TraceEvent[] {
  const events = sampleEvents(opts);
  const header: TraceHeader = {
    magic: TRACE_MAGIC,
    schemaVersion: SCHEMA_VERSION,
    toolVersion: 'test',
    kernelRelease: '6.18.0-sample',
    bpftraceVersion: 'v0.17.0',
    flavor: 'tracepoint',
    hostname: 'lab',
    startedAt: new Date(Date.UTC(2026, 10, 1)).toISOString(),
    clockRef: { monotonicNs: T0, wallMs: Date.UTC(2026, 10, 1) },
    filters: { pid: null, comm: null },
  };
  const trailer: TraceTrailer = {
    magic: TRAILER_MAGIC,
    endedAt: new Date(Date.UTC(2026, 10, 1, 0, 1)).toISOString(),
    events: events.length,
    lostEvents: 3,
    parseIssues: 0,
    reason: 'signal',
    error: null,
  };
  const lines = [header, ...events, ...(opts.truncated ? [] : [trailer])].map((v) => JSON.stringify(v));
  writeFileSync(path, `${lines.join('\n')}\n`);
  return events;
}
