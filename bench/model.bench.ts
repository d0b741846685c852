// Reducer throughput and memory, reported as ratios measured in one run (DEVELOPERS.md):
// - events/s of reduce() relative to plain JSON.parse of the same JSON-lines stream;
// - heap bytes per live mm.
// Run: node --expose-gc --import tsx bench/model.bench.ts  (or through npm run bench).
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { initialState, reduce } from '../src/model/index.js';
import type { FileRef, MapsEntry, TraceEvent } from '../src/trace/events.js';

const f = (ino: number, path: string): FileRef => ({ file: '0xffff888000000001', dev: 0x801, ino, name: path.slice(path.lastIndexOf('/') + 1), path, pathTruncated: false });
const LIBS = Array.from({ length: 6 }, (_, i) => f(2000 + i, `/usr/lib/x86_64-linux-gnu/lib${i}.so.6`));
const LDSO = f(1999, '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2');
const EXES = Array.from({ length: 40 }, (_, i) => f(1000 + i, `/usr/bin/prog${i}`));

/** One ordinary process: exec, loader mmaps, a thread, some VMA churn, snapshot, teardown. */
function processEvents(i: number, t0: number, withExit: boolean, distinctMm = false): TraceEvent[] {
  const pid = 10_000 + i;
  // Exiting processes reuse 4096 addresses (as the kernel does); live ones need distinct mms.
  const mm = distinctMm ? `0xffff8882${i.toString(16).padStart(8, '0')}` : `0xffff8881${(i % 4096).toString(16).padStart(8, '0')}`;
  const exe = EXES[i % EXES.length]!;
  const b = (k: number) => ({ ts: t0 + k, pid, tid: pid, comm: exe.name });
  const ev: TraceEvent[] = [
    { ...b(0), kind: 'exec_begin', oldMm: null, filename: exe.path!, interp: exe.path! },
    { ...b(1), kind: 'exec', oldTid: pid, ppid: 1, mm, exe, startCode: 0x555555556000, endCode: 0x55555555a000, filename: exe.path! },
  ];
  LIBS.forEach((lib, j) => ev.push({ ...b(2 + j), kind: 'mmap', mm, addr: 0x7f0000000000 + j * 0x200000, len: 0x150000, prot: 5, flags: 0x12, fd: 3, pgoff: 0x1000, file: lib }));
  ev.push({ ...b(10), kind: 'fork', childPid: pid, childTid: pid + 1, cloneFlags: 0x10f00, parentMm: mm, thread: true, sharesMm: true });
  ev.push({ ...b(11), tid: pid + 1, kind: 'mm_attach', ppid: 1, mm, exe });
  for (let k = 0; k < 8; k++) ev.push({ ...b(12 + k), kind: 'munmap', mm, addr: 0x7e0000000000 + k * 0x1000, len: 0x1000, ret: 0 });
  ev.push({ ...b(20), kind: 'mprotect', mm, addr: 0x7f0000000000, len: 0x1000, prot: 1, ret: 0 });
  const maps: MapsEntry[] = [
    { start: 0x555555554000, end: 0x555555556000, perms: 'r--p', offset: 0, dev: exe.dev, ino: exe.ino, path: exe.path! },
    { start: 0x555555556000, end: 0x55555555a000, perms: 'r-xp', offset: 0x2000, dev: exe.dev, ino: exe.ino, path: exe.path! },
    ...LIBS.map((lib, j) => ({ start: 0x7f0000000000 + j * 0x200000, end: 0x7f0000150000 + j * 0x200000, perms: 'r-xp', offset: 0x1000, dev: lib.dev, ino: lib.ino, path: lib.path! })),
    { start: 0x7ffff7fc5000, end: 0x7ffff7feb000, perms: 'r-xp', offset: 0x1000, dev: LDSO.dev, ino: LDSO.ino, path: LDSO.path! },
  ];
  ev.push({ ...b(21), kind: 'proc_snapshot', reason: 'exec', exeLink: exe.path, exeError: null, exeDev: exe.dev, exeIno: exe.ino, maps });
  if (withExit) {
    ev.push({ ...b(30), kind: 'exit', groupDead: true, exitCode: 0 });
    ev.push({ ...b(31), kind: 'mm_exit', mm, exe });
  }
  return ev;
}

export interface ModelBenchResult {
  events: number;
  parseEventsPerSec: number;
  reduceEventsPerSec: number;
  /** reduce throughput / JSON.parse throughput on the same stream. */
  reduceToParseRatio: number;
  /** parse + reduce together, relative to parse alone. */
  pipelineToParseRatio: number;
  findings: number;
  liveMms: number;
  heapBytesPerLiveMm: number;
}

function time(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

export function runModelBench(processes = 20_000, liveProcesses = 20_000): ModelBenchResult {
  const stream: TraceEvent[] = [];
  for (let i = 0; i < processes; i++) stream.push(...processEvents(i, i * 100, true));
  const lines = stream.map((e) => JSON.stringify(e));

  // Warm both paths once on a slice so the JIT state is comparable.
  let warm = initialState();
  for (const l of lines.slice(0, 20_000)) warm = reduce(warm, JSON.parse(l) as TraceEvent);

  let parsed: TraceEvent[] = [];
  const parseSecs = time(() => {
    parsed = lines.map((l) => JSON.parse(l) as TraceEvent);
  });
  let state = initialState();
  const reduceSecs = time(() => {
    for (const e of parsed) state = reduce(state, e);
  });
  const findings = state.findings.length;

  // Heap per live mm: processes that never exit stay in the live state.
  const gc = (globalThis as { gc?: () => void }).gc;
  const live: TraceEvent[] = [];
  for (let i = 0; i < liveProcesses; i++) live.push(...processEvents(i, i * 100, false, true));
  // The input stays alive across both readings, so only what the state holds is counted.
  gc?.();
  const before = process.memoryUsage().heapUsed;
  let liveState = initialState();
  for (const e of live) liveState = reduce(liveState, e);
  gc?.();
  const after = process.memoryUsage().heapUsed;
  live.length = 0;

  const n = parsed.length;
  return {
    events: n,
    parseEventsPerSec: n / parseSecs,
    reduceEventsPerSec: n / reduceSecs,
    reduceToParseRatio: parseSecs / reduceSecs,
    pipelineToParseRatio: (parseSecs + reduceSecs) / parseSecs,
    findings,
    liveMms: liveState.mms.size,
    heapBytesPerLiveMm: gc ? (after - before) / liveState.mms.size : Number.NaN,
  };
}

function invokedDirectly(): boolean {
  try {
    return process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  const r = runModelBench();
  const gcNote = Number.isNaN(r.heapBytesPerLiveMm) ? ' (run with --expose-gc to measure)' : '';
  console.log(`model reducer over ${r.events} synthetic events (${r.findings} findings; must be 0 for this ordinary workload)`);
  console.log(`  reduce: ${Math.round(r.reduceEventsPerSec)} events/s = ${r.reduceToParseRatio.toFixed(2)}x the speed of JSON.parse of the same lines`);
  console.log(`  parse+reduce takes ${r.pipelineToParseRatio.toFixed(2)}x the time of parse alone`);
  console.log(`  heap per live mm: ${Number.isNaN(r.heapBytesPerLiveMm) ? 'n/a' : Math.round(r.heapBytesPerLiveMm)} bytes over ${r.liveMms} live mms${gcNote}`);
}
