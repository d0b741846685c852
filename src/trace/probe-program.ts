// Which probe script to run and its bpftrace argv. Filters travel as positional parameters
// ($1 pid, $2 comm, $3 collector pid, $4 offset of mnt in struct mount, $5 and $6 offsets of
// comm and sibling in struct task_struct, and for kprobe/kfunc $7 the VMA-removal function this
// kernel can trace), never as program text. The program file
// depends on the flavor, the bpftrace dialect and the kernel's exec entry function.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BpftraceDialect } from './bpftrace-dialect.js';

export type ProbeFlavor = 'tracepoint' | 'kprobe' | 'kfunc';

/** The exec function holding the point of no return: begin_new_exec since 5.8, flush_old_exec before. */
export type ExecEntry = 'begin_new_exec' | 'flush_old_exec';

/** What picks a program file besides the flavor. The tracepoint flavor has one per dialect only. */
export interface ProgramVariant {
  dialect: BpftraceDialect;
  execEntry: ExecEntry;
}

export const DEFAULT_VARIANT: ProgramVariant = { dialect: '0.17', execEntry: 'begin_new_exec' };

/** $2 when there is no comm filter: 16 bytes, longer than any comm (TASK_COMM_LEN - 1 = 15). */
export const NO_COMM_SENTINEL = 'exetrace:no-comm';

export interface ProbeOptions {
  flavor: ProbeFlavor;
  pid: number | null;
  comm: string | null;
  selfPid: number;
  mountOffset: number;
  /** Byte offsets of comm and sibling in struct task_struct (BTF). */
  commOffset: number;
  siblingOffset: number;
  /** kprobe/kfunc: `remove_vma` where BTF has it as a function, else `vm_area_free` (inlined on 6.1). */
  vmaRemovalFunction?: VmaRemovalFunction;
  /** Default: bpftrace 0.17's language on a begin_new_exec kernel. */
  variant?: ProgramVariant;
}

export type VmaRemovalFunction = 'remove_vma' | 'vm_area_free';

export interface ProbeInvocation {
  scriptPath: string;
  /** Everything after `bpftrace` on the command line. */
  args: string[];
}

/** The directory holding package.json, found walking up from this module (src/ or dist/src/). */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
}

/**
 * `probes/[bpftrace-0.23/][flush_old_exec/]<flavor>.bt`. The tracepoint flavor needs
 * sched_prepare_exec (6.8+), so it never has a flush_old_exec program.
 */
export function programRelativePath(flavor: ProbeFlavor, variant: ProgramVariant = DEFAULT_VARIANT): string {
  const parts = ['probes'];
  if (variant.dialect === '0.23') parts.push('bpftrace-0.23');
  if (variant.execEntry === 'flush_old_exec' && flavor !== 'tracepoint') parts.push('flush_old_exec');
  return join(...parts, `${flavor}.bt`);
}

export function probeScriptPath(flavor: ProbeFlavor, variant: ProgramVariant = DEFAULT_VARIANT): string {
  return join(packageRoot(), programRelativePath(flavor, variant));
}

/** Throws with a message fit for the user when the comm filter cannot be a comm. */
export function validateCommFilter(comm: string): string {
  const bytes = Buffer.from(comm, 'utf8');
  if (bytes.length === 0) throw new Error('comm filter is empty');
  if (bytes.length > 15) throw new Error(`comm filter "${comm}" is ${bytes.length} bytes; a comm is at most 15 bytes`);
  if (/[\x00-\x1f\x7f]/.test(comm)) throw new Error('comm filter holds a NUL or control character');
  return comm;
}

export function validatePidFilter(pid: number): number {
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid > 4194304) {
    throw new Error(`pid filter ${pid} is not a pid (1..4194304)`);
  }
  return pid;
}

export function buildProbeInvocation(opts: ProbeOptions): ProbeInvocation {
  const pid = opts.pid === null ? 0 : validatePidFilter(opts.pid);
  const comm = opts.comm === null ? NO_COMM_SENTINEL : validateCommFilter(opts.comm);
  if (!Number.isSafeInteger(opts.selfPid) || opts.selfPid <= 0) throw new Error(`bad collector pid ${opts.selfPid}`);
  if (!Number.isSafeInteger(opts.mountOffset) || opts.mountOffset < 0 || opts.mountOffset > 4096) {
    throw new Error(`bad struct mount offset ${opts.mountOffset}`);
  }
  for (const [name, off] of [
    ['comm', opts.commOffset],
    ['sibling', opts.siblingOffset],
  ] as const) {
    if (!Number.isSafeInteger(off) || off < 0 || off > 65536) throw new Error(`bad task_struct ${name} offset ${off}`);
  }
  const scriptPath = probeScriptPath(opts.flavor, opts.variant);
  const args = [
    '-f',
    'json',
    scriptPath,
    String(pid),
    comm,
    String(opts.selfPid),
    String(opts.mountOffset),
    String(opts.commOffset),
    String(opts.siblingOffset),
  ];
  if (opts.flavor !== 'tracepoint') {
    // Becomes a probe name (kfunc:$7), so only the two known names may pass.
    const fn = opts.vmaRemovalFunction;
    if (fn !== 'remove_vma' && fn !== 'vm_area_free') throw new Error(`the ${opts.flavor} flavor needs the VMA-removal function (remove_vma or vm_area_free)`);
    args.push(fn);
  }
  return { scriptPath, args };
}
