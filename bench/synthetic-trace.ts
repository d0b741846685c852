// Big synthetic traces for throughput and memory benchmarks: a shell that runs short-lived
// programs, each one lifecycle fork → mm_attach → exec_begin → mm_exit (old mm) → exec →
// 2-4 mmaps → exit → mm_exit, several in flight at once and interleaved, mm addresses reused
// LIFO as the slab allocator does. Deterministic: the same arguments give the same bytes.
// Run: node --import tsx bench/synthetic-trace.ts OUT.trace LIFECYCLES [--live N] [--schema 1|2]
import { closeSync, openSync, realpathSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { FileRef, TraceEvent } from '../src/trace/events.js';
import { SCHEMA_VERSION, TRACE_MAGIC, TRAILER_MAGIC, type TraceHeader, type TraceTrailer } from '../src/trace/trace-format.js';
import { TraceEncoder } from '../src/trace/trace-writer.js';

export interface SyntheticTraceOptions {
  /** Lifecycles that stop after their mmaps and stay live to the end (default 0). */
  live?: number;
  /** Lifecycles in flight at once, interleaved (default 8). */
  concurrency?: number;
  /** Distinct program files exec'd (default 200) and shared libraries mapped (default 40). */
  programs?: number;
  libraries?: number;
  /** Trace schema to write (default: the current one, with its file dictionary). */
  schemaVersion?: 1 | 2;
  /** Seed of the interleaving and of the per-lifecycle choices (default 1). */
  seed?: number;
}

const DEV_ROOT = 0x10302; // st_dev of a typical /dev/nvme0n1p2 root
const T0 = 1_000_000_000_000;
const WALL0 = 1_795_000_000_000;
const SHELL_PID = 1000;
const SHELL_MM = '0xffff888100040000';
const PID_FIRST = 2000;
const PID_MAX = 4_194_304;
const MAP_PRIVATE_FIXED_DENYWRITE = 0x812;
const CLONE_CHILD = 0x1200011; // SIGCHLD | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID

/** mulberry32: small, fast, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fileRef = (ino: number, path: string, pointer: number): FileRef => ({
  file: `0xffff8881${(0x20000000 + pointer * 0x100).toString(16)}`,
  dev: DEV_ROOT,
  ino,
  name: path.slice(path.lastIndexOf('/') + 1),
  path,
  pathTruncated: false,
});

/** mm_struct addresses from a LIFO free list, like a slab cache. */
class MmAllocator {
  private free: string[] = [];
  private next = 0;
  alloc(): string {
    return this.free.pop() ?? `0xffff8882${(0x10000000 + this.next++ * 0x400).toString(16)}`;
  }
  release(addr: string): void {
    this.free.push(addr);
  }
}

interface Lifecycle {
  pid: number;
  /** Events still to emit, built lazily step by step. */
  step: number;
  forkMm: string;
  execMm: string;
  prog: FileRef;
  libs: FileRef[];
  stayLive: boolean;
}

export function syntheticHeader(schemaVersion: number = SCHEMA_VERSION): TraceHeader {
  return {
    magic: TRACE_MAGIC,
    schemaVersion,
    toolVersion: 'synthetic',
    kernelRelease: '6.18.0',
    bpftraceVersion: 'v0.17.0',
    flavor: 'tracepoint',
    hostname: 'synthetic',
    startedAt: new Date(WALL0).toISOString(),
    clockRef: { monotonicNs: T0, wallMs: WALL0 },
    filters: { pid: null, comm: null },
  };
}

/**
 * The events of a synthetic trace (no header or trailer): the shell's exec, then `mmLifecycles`
 * short-lived programs plus `opts.live` that stay alive. About 10 events per lifecycle.
 */
export function* syntheticEvents(mmLifecycles: number, opts: SyntheticTraceOptions = {}): Generator<TraceEvent> {
  const live = opts.live ?? 0;
  const concurrency = Math.max(1, opts.concurrency ?? 8);
  const random = rng(opts.seed ?? 1);
  const programs = Array.from({ length: opts.programs ?? 200 }, (_, i) => fileRef(100_000 + i, `/usr/bin/prog-${i}`, i));
  const libraries = Array.from({ length: opts.libraries ?? 40 }, (_, i) =>
    fileRef(200_000 + i, `/usr/lib/x86_64-linux-gnu/lib${i}.so.${1 + (i % 6)}`, 1000 + i),
  );
  const shell = fileRef(99_999, '/usr/bin/bash', 999);
  const mms = new MmAllocator();
  let ts = T0 + 1000;
  const tick = (): number => (ts += 1 + Math.floor(random() * 20_000));
  const sh = (): { ts: number; pid: number; tid: number; comm: string } => ({ ts: tick(), pid: SHELL_PID, tid: SHELL_PID, comm: 'bash' });

  yield { ...sh(), kind: 'exec_begin', oldMm: null, filename: '/usr/bin/bash', interp: '/usr/bin/bash' };
  yield {
    ...sh(),
    kind: 'exec',
    oldTid: SHELL_PID,
    ppid: 1,
    mm: SHELL_MM,
    exe: shell,
    startCode: 0x55f2a0c00000,
    endCode: 0x55f2a0cf0000,
    filename: '/usr/bin/bash',
  };

  const total = mmLifecycles + live;
  let started = 0;
  let nextPid = PID_FIRST;
  const inFlight: Lifecycle[] = [];
  while (started < total || inFlight.length > 0) {
    while (inFlight.length < concurrency && started < total) {
      const nLibs = 2 + Math.floor(random() * 3);
      const libs: FileRef[] = [];
      for (let k = 0; k < nLibs; k++) libs.push(libraries[Math.floor(random() * libraries.length)]!);
      // Live lifecycles come first so they are in the state for the whole run.
      inFlight.push({ pid: nextPid, step: 0, forkMm: '', execMm: '', prog: programs[Math.floor(random() * programs.length)]!, libs, stayLive: started < live });
      nextPid = nextPid + 1 >= PID_MAX ? PID_FIRST : nextPid + 1;
      started++;
    }
    const at = Math.floor(random() * inFlight.length);
    const lc = inFlight[at]!;
    const pid = lc.pid;
    const comm = lc.step < 4 ? 'bash' : lc.prog.name.slice(0, 15);
    const b = { ts: tick(), pid, tid: pid, comm };
    const s = lc.step++;
    const mmapsEnd = 5 + lc.libs.length;
    if (s === 0) {
      lc.forkMm = mms.alloc();
      yield {
        ...b,
        pid: SHELL_PID,
        tid: SHELL_PID,
        comm: 'bash',
        kind: 'fork',
        childPid: pid,
        childTid: pid,
        cloneFlags: CLONE_CHILD,
        parentMm: SHELL_MM,
        thread: false,
        sharesMm: false,
      };
    } else if (s === 1) {
      yield { ...b, kind: 'mm_attach', ppid: SHELL_PID, mm: lc.forkMm, exe: shell };
    } else if (s === 2) {
      yield { ...b, kind: 'exec_begin', oldMm: lc.forkMm, filename: lc.prog.path!, interp: lc.prog.path! };
    } else if (s === 3) {
      // exit_mmap of the forked mm happens inside exec, before the new mm is named.
      lc.execMm = mms.alloc();
      yield { ...b, kind: 'mm_exit', mm: lc.forkMm, exe: shell };
      mms.release(lc.forkMm);
    } else if (s === 4) {
      yield {
        ...b,
        kind: 'exec',
        oldTid: pid,
        ppid: SHELL_PID,
        mm: lc.execMm,
        exe: lc.prog,
        startCode: 0x55d4c8a01000,
        endCode: 0x55d4c8a3f000,
        filename: lc.prog.path!,
      };
    } else if (s < mmapsEnd) {
      const k = s - 5;
      const lib = lc.libs[k]!;
      yield {
        ...b,
        kind: 'mmap',
        mm: lc.execMm,
        addr: 0x7f3a1c000000 + k * 0x400000,
        len: 0x1a5000,
        prot: 5,
        flags: MAP_PRIVATE_FIXED_DENYWRITE,
        fd: 3,
        pgoff: 0x28000,
        file: lib,
      };
    } else if (s === mmapsEnd) {
      yield { ...b, kind: 'exit', groupDead: true, exitCode: 0 };
    } else {
      yield { ...b, kind: 'mm_exit', mm: lc.execMm, exe: lc.prog };
      mms.release(lc.execMm);
    }
    const done = lc.stayLive ? lc.step >= mmapsEnd : lc.step > mmapsEnd + 1;
    if (done) {
      inFlight[at] = inFlight[inFlight.length - 1]!;
      inFlight.pop();
    }
  }
}

/**
 * A whole synthetic trace as lines, each ending in "\n": header, events (with their dictionary
 * lines in schema 2), trailer. Write them out as they come; nothing is held.
 */
export function* syntheticTrace(mmLifecycles: number, opts: SyntheticTraceOptions = {}): Generator<string> {
  const enc = new TraceEncoder(opts.schemaVersion ?? (SCHEMA_VERSION as 2));
  yield enc.header(syntheticHeader(enc.schemaVersion));
  let events = 0;
  for (const e of syntheticEvents(mmLifecycles, opts)) {
    events++;
    yield enc.event(e);
  }
  const trailer: TraceTrailer = {
    magic: TRAILER_MAGIC,
    endedAt: new Date(WALL0 + 60_000).toISOString(),
    events,
    lostEvents: 0,
    parseIssues: 0,
    reason: 'signal',
    error: null,
  };
  yield enc.line(trailer);
}

export interface SyntheticTraceFile {
  path: string;
  lines: number;
  events: number;
  bytes: number;
}

/** Write a synthetic trace to `path` (batched synchronous writes). */
export function writeSyntheticTrace(path: string, mmLifecycles: number, opts: SyntheticTraceOptions = {}): SyntheticTraceFile {
  const fd = openSync(path, 'w', 0o600);
  let batch: string[] = [];
  let batchLen = 0;
  let lines = 0;
  let chunks = 0;
  let bytes = 0;
  const flush = (): void => {
    const buf = Buffer.from(batch.join(''), 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off);
    bytes += buf.length;
    batch = [];
    batchLen = 0;
  };
  try {
    for (const chunk of syntheticTrace(mmLifecycles, opts)) {
      batch.push(chunk);
      chunks++;
      batchLen += chunk.length;
      for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) lines++;
      if (batchLen >= 1 << 20) flush();
    }
    flush();
  } finally {
    closeSync(fd);
  }
  // Every chunk but the header and the trailer is one event (with its dictionary lines).
  return { path, lines, events: chunks - 2, bytes };
}

function invokedDirectly(): boolean {
  try {
    return process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  const [out, n, ...rest] = process.argv.slice(2);
  if (out === undefined || n === undefined || !/^\d+$/.test(n)) {
    console.error('usage: synthetic-trace.ts OUT LIFECYCLES [--live N] [--schema 1|2] [--concurrency N]');
    process.exit(2);
  }
  const flag = (name: string): number | undefined => {
    const i = rest.indexOf(name);
    return i >= 0 ? Number(rest[i + 1]) : undefined;
  };
  const schema = flag('--schema');
  const r = writeSyntheticTrace(out, Number(n), { live: flag('--live'), concurrency: flag('--concurrency'), schemaVersion: schema === 1 ? 1 : 2 });
  console.log(`${r.path}: ${r.lines} lines, ${r.bytes} bytes`);
}
