// Synthetic schema-1 traces for the analyze/replay and heap benchmarks: many short mm
// lifecycles (a shell forks, the child execs a dynamic binary, maps libc, exits), or N mms
// that stay live to the end. Stand-in until bench/synthetic-trace.ts (branch `model`) lands;
// bench/trace-source.ts picks whichever exists, so callers never import this file directly.
import type { FileRef, TraceEvent } from '../src/trace/events.js';

export interface TraceGenOptions {
  /** Lifecycles that end (exit + mm_exit of the exec'd mm): the analyzer's steady state. */
  lifecycles: number;
  /** Mms exec'd but never torn down (distinct pids and addresses): what a live table holds. */
  liveMms?: number;
}

const file = (ino: number, path: string, ptr: number): FileRef => ({
  file: `0xffff8882f29a${ptr.toString(16).padStart(4, '0')}`,
  dev: 65024,
  ino,
  name: path.slice(path.lastIndexOf('/') + 1),
  path,
  pathTruncated: false,
});
const SH = file(260104, '/usr/bin/bash', 0xdcc0);
const TRUE = file(260958, '/usr/bin/true', 0x1000);
const LIBC = file(339380, '/usr/lib/x86_64-linux-gnu/libc.so.6', 0x13c0);
const PARENT = { pid: 4242, mm: '0xffff888100420000' };
const T0 = 1_000_000_000_000;
/** Pids and mm addresses are reused as the kernel does; live mms get distinct ones. */
const PID_BASE = 10_000;
const PID_SPAN = 4_000_000;
const REUSED_MM_SLOTS = 4096;

const hexMm = (hi: number, n: number): string => `0xffff888${hi}${n.toString(16).padStart(8, '0')}`;

/** Events of lifecycle i; `live` leaves the exec'd mm running (no exit, no mm_exit). */
export function lifecycleEvents(i: number, live: boolean): TraceEvent[] {
  const pid = PID_BASE + (i % PID_SPAN);
  const forkMm = live ? hexMm(3, i) : hexMm(1, (2 * i) % REUSED_MM_SLOTS);
  const execMm = live ? hexMm(4, i) : hexMm(1, (2 * i + 1) % REUSED_MM_SLOTS);
  const t = T0 + i * 10_000;
  const sh = { pid, tid: pid, comm: 'bash' };
  const tr = { pid, tid: pid, comm: 'true' };
  const ev: TraceEvent[] = [
    {
      kind: 'fork',
      ts: t,
      pid: PARENT.pid,
      tid: PARENT.pid,
      comm: 'bash',
      childPid: pid,
      childTid: pid,
      cloneFlags: 18874368,
      parentMm: PARENT.mm,
      thread: false,
      sharesMm: false,
    },
    { kind: 'mm_attach', ts: t + 100, ...sh, ppid: PARENT.pid, mm: forkMm, exe: SH },
    { kind: 'exec_begin', ts: t + 200, ...sh, oldMm: forkMm, filename: TRUE.path!, interp: TRUE.path! },
    { kind: 'mm_exit', ts: t + 300, ...sh, mm: forkMm, exe: SH },
    {
      kind: 'exec',
      ts: t + 400,
      ...tr,
      oldTid: pid,
      ppid: PARENT.pid,
      mm: execMm,
      exe: TRUE,
      startCode: 94134492844032,
      endCode: 94134492894125,
      filename: TRUE.path!,
    },
    { kind: 'mmap', ts: t + 500, ...tr, mm: execMm, addr: 140626903928832, len: 1400832, prot: 5, flags: 2066, fd: 3, pgoff: 155648, file: LIBC },
    { kind: 'mmap', ts: t + 600, ...tr, mm: execMm, addr: 140626905329664, len: 339968, prot: 1, flags: 2066, fd: 3, pgoff: 1556480, file: LIBC },
    { kind: 'mmap', ts: t + 700, ...tr, mm: execMm, addr: 140626905669632, len: 24576, prot: 3, flags: 2066, fd: 3, pgoff: 1896448, file: LIBC },
  ];
  if (!live) {
    ev.push({ kind: 'exit', ts: t + 800, ...tr, groupDead: true, exitCode: 0 });
    ev.push({ kind: 'mm_exit', ts: t + 900, ...tr, mm: execMm, exe: TRUE });
  }
  return ev;
}

/** Every event of the trace in order (live mms first, then the ending lifecycles). */
export function* traceEvents(opts: TraceGenOptions): Generator<TraceEvent> {
  const live = opts.liveMms ?? 0;
  for (let i = 0; i < live; i++) yield* lifecycleEvents(i, true);
  for (let i = 0; i < opts.lifecycles; i++) yield* lifecycleEvents(live + i, false);
}

export function headerLine(): string {
  return JSON.stringify({
    magic: 'exetrace-trace',
    schemaVersion: 1,
    toolVersion: '0.1.0',
    kernelRelease: '6.18.0-synthetic',
    bpftraceVersion: 'v0.17.0',
    flavor: 'tracepoint',
    hostname: 'bench',
    startedAt: '2026-12-01T00:00:00.000Z',
    clockRef: { monotonicNs: T0 - 1_000_000, wallMs: 1795996800000 },
    filters: { pid: null, comm: null },
  });
}

export function trailerLine(events: number): string {
  return JSON.stringify({
    magic: 'exetrace-trailer',
    endedAt: '2026-12-01T00:10:00.000Z',
    events,
    lostEvents: 0,
    parseIssues: 0,
    reason: 'signal',
    error: null,
    skippedSnapshots: 0,
  });
}
