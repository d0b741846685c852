// Builders for synthetic TraceEvent streams used by the model and report tests.
import type {
  TraceEvent, ExecBeginEvent, ExecEvent, ExitEvent, FileRef, ForkEvent, GapEvent, MapsEntry, MmapEvent, MmAttachEvent,
  MmExitEvent, MprotectEvent, MremapEvent, MunmapEvent, PrctlMmEvent, ProcSnapshotEvent,
} from '../../src/trace/events.js';

export const PROT_R = 1;
export const PROT_X = 4;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;

export function file(dev: number, ino: number, path: string): FileRef {
  return { file: '0xffff888000000001', dev, ino, name: path.slice(path.lastIndexOf('/') + 1), path, pathTruncated: false };
}

export const ROOT_DEV = 0x801;
export const SLEEP = file(ROOT_DEV, 1001, '/usr/bin/sleep');
export const SH = file(ROOT_DEV, 1002, '/usr/bin/dash');
export const LDSO = file(ROOT_DEV, 2001, '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2');
export const LIBC = file(ROOT_DEV, 2002, '/usr/lib/x86_64-linux-gnu/libc.so.6');
export const DECOY = file(ROOT_DEV, 3001, '/tmp/decoy.bin');

const base = (ts: number, pid: number, tid = pid, comm = 'proc') => ({ ts, pid, tid, comm });

export const ev = {
  execBegin: (ts: number, pid: number, oldMm: string | null, filename: string, interp = filename, tid = pid): ExecBeginEvent => ({
    ...base(ts, pid, tid), kind: 'exec_begin', oldMm, filename, interp,
  }),
  exec: (ts: number, pid: number, mm: string, exe: FileRef | null, o: { startCode?: number; endCode?: number; oldTid?: number; comm?: string; ppid?: number } = {}): ExecEvent => ({
    ...base(ts, pid, pid, o.comm ?? exe?.name ?? 'proc'), kind: 'exec', oldTid: o.oldTid ?? pid, ppid: o.ppid ?? 1, mm, exe,
    startCode: o.startCode ?? 0x555555556000, endCode: o.endCode ?? 0x55555555a000, filename: exe?.path ?? '',
  }),
  fork: (ts: number, pid: number, childPid: number, parentMm: string | null, o: { thread?: boolean; sharesMm?: boolean; childTid?: number; tid?: number } = {}): ForkEvent => ({
    ...base(ts, pid, o.tid ?? pid), kind: 'fork', childPid, childTid: o.childTid ?? childPid, cloneFlags: 0, parentMm,
    thread: o.thread ?? false, sharesMm: o.sharesMm ?? o.thread ?? false,
  }),
  attach: (ts: number, pid: number, mm: string, exe: FileRef | null, o: { ppid?: number; tid?: number } = {}): MmAttachEvent => ({
    ...base(ts, pid, o.tid ?? pid), kind: 'mm_attach', ppid: o.ppid ?? 1, mm, exe,
  }),
  mmExit: (ts: number, pid: number, mm: string, exe: FileRef | null = null): MmExitEvent => ({ ...base(ts, pid), kind: 'mm_exit', mm, exe }),
  exit: (ts: number, pid: number, groupDead = true): ExitEvent => ({ ...base(ts, pid), kind: 'exit', groupDead, exitCode: 0 }),
  mmap: (ts: number, pid: number, mm: string, addr: number, len: number, f: FileRef | null, o: { prot?: number; flags?: number; pgoff?: number; tid?: number } = {}): MmapEvent => ({
    ...base(ts, pid, o.tid ?? pid), kind: 'mmap', mm, addr, len, prot: o.prot ?? PROT_R | PROT_X, flags: o.flags ?? MAP_PRIVATE | MAP_FIXED, fd: 3, pgoff: o.pgoff ?? 0, file: f,
  }),
  munmap: (ts: number, pid: number, mm: string, addr: number, len: number, ret = 0): MunmapEvent => ({ ...base(ts, pid), kind: 'munmap', mm, addr, len, ret }),
  mremap: (ts: number, pid: number, mm: string, oldAddr: number, oldLen: number, newLen: number, ret: number): MremapEvent => ({
    ...base(ts, pid), kind: 'mremap', mm, oldAddr, oldLen, newLen, flags: 3, ret,
  }),
  mprotect: (ts: number, pid: number, mm: string, addr: number, len: number, prot: number, ret = 0): MprotectEvent => ({ ...base(ts, pid), kind: 'mprotect', mm, addr, len, prot, ret }),
  prctl: (ts: number, pid: number, mm: string, before: FileRef | null, after: FileRef | null, ret = 0, subOption = 14): PrctlMmEvent => ({
    ...base(ts, pid), kind: 'prctl_mm', mm, subOption, exeFd: 3, ret, exeBefore: before, exeAfter: after,
  }),
  snapshot: (ts: number, pid: number, reason: ProcSnapshotEvent['reason'], exe: FileRef | null, maps: MapsEntry[], o: { exeLink?: string | null; comm?: string } = {}): ProcSnapshotEvent => ({
    ...base(ts, pid, pid, o.comm ?? exe?.name ?? 'proc'), kind: 'proc_snapshot', reason,
    exeLink: o.exeLink !== undefined ? o.exeLink : exe?.path ?? null, exeError: exe ? null : 'ENOENT',
    exeDev: exe?.dev ?? null, exeIno: exe?.ino ?? null, maps,
  }),
  gap: (ts: number, lost = 10): GapEvent => ({ kind: 'gap', ts, lost, source: 'bpftrace' }),
};

export function maps(f: FileRef, start: number, end: number, perms = 'r-xp', offset = 0): MapsEntry {
  return { start, end, perms, offset, dev: f.dev, ino: f.ino, path: f.path ?? f.name };
}

// A typical top-down layout on x86_64: PIE low, libraries and ld.so high.
export const EXE_BASE = 0x555555554000;
export const EXE_TEXT = [0x555555556000, 0x55555555a000] as const;
export const LIBC_TEXT = [0x7ffff7dd0000, 0x7ffff7f25000] as const;
export const LDSO_TEXT = [0x7ffff7fc5000, 0x7ffff7feb000] as const;

/** The maps of an ordinary dynamically linked process (top-down layout). */
export function ordinaryMaps(exe: FileRef): MapsEntry[] {
  return [
    maps(exe, EXE_BASE, EXE_TEXT[0], 'r--p'),
    maps(exe, EXE_TEXT[0], EXE_TEXT[1], 'r-xp', 0x2000),
    maps(exe, EXE_TEXT[1], EXE_TEXT[1] + 0x3000, 'r--p', 0x6000),
    maps(LIBC, LIBC_TEXT[0], LIBC_TEXT[1], 'r-xp', 0x26000),
    maps(LDSO, LDSO_TEXT[0], LDSO_TEXT[1], 'r-xp', 0x1000),
  ];
}

/** exec + the loader's libc mmap + the recorder's exec snapshot: an ordinary dynamic program. */
export function ordinaryLaunch(t: number, pid: number, mm: string, exe: FileRef = SLEEP) {
  const comm = exe.name.slice(0, 15);
  return ([
    ev.execBegin(t, pid, null, exe.path!),
    ev.exec(t + 1, pid, mm, exe),
    ev.mmap(t + 2, pid, mm, LIBC_TEXT[0], LIBC_TEXT[1] - LIBC_TEXT[0], LIBC, { pgoff: 0x26000 }),
    ev.snapshot(t + 3, pid, 'exec', exe, ordinaryMaps(exe)),
  ] as TraceEvent[]).map((e) => ({ ...e, comm }) as TraceEvent);
}
