// What /proc says about the processes under test: CPU time, children, peak RSS, bytes read.
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** A /proc directory's entries, or none once the process is gone. */
function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Fields of /proc/PID/stat after the comm (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | null {
  const s = read(`/proc/${pid}/stat`);
  if (s === null) return null;
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime in seconds (clock-tick resolution), or 0 once the process is gone. */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  // After the comm: state(0) ppid(1) ... utime(11) stime(12).
  return f ? (Number(f[11]) + Number(f[12])) / CLK_TCK : 0;
}

/** Sum of the live threads' on-CPU time (ns resolution), from /proc/PID/task/TID/schedstat. */
export function schedSeconds(pid: number): number {
  let sum = 0;
  for (const s of threadSeconds(pid).values()) sum += s;
  return sum;
}

/** On-CPU seconds (schedstat, ns resolution) of each live thread of pid, by tid. */
export function threadSeconds(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of list(`/proc/${pid}/task`)) {
    const s = read(`/proc/${pid}/task/${t}/schedstat`);
    if (s) out.set(Number(t), Number(s.split(' ')[0]) / 1e9);
  }
  return out;
}

/** Every descendant of pid (this kernel has no /proc/PID/task/TID/children: scan ppids). */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(Number(d));
    if (f) parent.set(Number(d), Number(f[1]));
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [c, pp] of parent)
      if (pp === p) {
        out.push(c);
        walk(c);
      }
  };
  walk(pid);
  return out;
}

export function commOf(pid: number): string | null {
  return read(`/proc/${pid}/comm`)?.trim() ?? null;
}

export function cmdlineOf(pid: number): string[] | null {
  const s = read(`/proc/${pid}/cmdline`);
  return s === null ? null : s.split('\0').slice(0, -1);
}

export function environOf(pid: number): Record<string, string> {
  const s = read(`/proc/${pid}/environ`) ?? '';
  const env: Record<string, string> = {};
  for (const kv of s.split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

/** Peak resident set (VmHWM) in bytes, or null once gone. */
export function vmHwmBytes(pid: number): number | null {
  const m = /VmHWM:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) * 1024 : null;
}

/** Bytes the process has read through read(2) and friends (/proc/PID/io rchar). */
export function rcharBytes(pid: number): number | null {
  const m = /rchar: (\d+)/.exec(read(`/proc/${pid}/io`) ?? '');
  return m ? Number(m[1]) : null;
}

/** The furthest read position of pid's descriptors open on `path` (any thread's), or null if none is. */
export function filePosition(pid: number, path: string): number | null {
  let pos: number | null = null;
  for (const fd of list(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== path) continue;
    const m = /^pos:\s+(\d+)/m.exec(read(`/proc/${pid}/fdinfo/${fd}`) ?? '');
    if (m) pos = Math.max(pos ?? 0, Number(m[1]));
  }
  return pos;
}

/** CPU of pid and all its descendants now: stat (utime+stime) and schedstat sums. */
export function treeCpu(pid: number): { stat: number; sched: number; pids: number[] } {
  const pids = [pid, ...descendants(pid)];
  let stat = 0;
  let sched = 0;
  for (const p of pids) {
    stat += cpuSeconds(p);
    sched += schedSeconds(p);
  }
  return { stat, sched, pids };
}

/**
 * Time the kernel spent running the BPF programs held by pid and its descendants, and how often
 * they ran (fdinfo of each bpf-prog fd; counted only while kernel.bpf_stats_enabled is 1).
 * This CPU is charged to the traced tasks, not to the tracer: it slows the workload itself.
 */
export function bpfProgRun(pid: number): { ns: number; runs: number } {
  let ns = 0;
  let runs = 0;
  for (const p of [pid, ...descendants(pid)]) {
    for (const fd of list(`/proc/${p}/fd`)) {
      const info = read(`/proc/${p}/fdinfo/${fd}`);
      if (info === null || !info.includes('prog_type:')) continue;
      ns += Number(/run_time_ns:\s+(\d+)/.exec(info)?.[1] ?? 0);
      runs += Number(/run_cnt:\s+(\d+)/.exec(info)?.[1] ?? 0);
    }
  }
  return { ns, runs };
}

const BPF_STATS = '/proc/sys/kernel/bpf_stats_enabled';

/** Run `f` with kernel.bpf_stats_enabled set, then put back what was there. */
export async function withBpfStats<T>(f: () => Promise<T>): Promise<T> {
  const before = read(BPF_STATS)?.trim() ?? '0';
  writeFileSync(BPF_STATS, '1');
  try {
    return await f();
  } finally {
    writeFileSync(BPF_STATS, before);
  }
}
