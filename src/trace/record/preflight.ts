// Phase 1 of a recording: everything that can fail before bpftrace starts (filters, root,
// bpftrace, tracefs, the flavor ladder, BTF, the probe invocation, the trace file), with a
// clear error for each. Nothing is written and nothing runs past this phase on failure.
import { readFileSync } from 'node:fs';
import { Btf, mountMntOffset, taskMemberOffset, VMLINUX_BTF_PATH } from '../../kernel/btf.js';
import { detectExecEntry } from '../../kernel/exec-entry.js';
import { dialectFor, parseBpftraceVersion } from '../bpftrace-dialect.js';
import { BTF_PATH, bpftraceFindsBtfAsync, btfPresent, bpftraceVersion, ensureTracefs, findBpftrace, isRoot } from '../../kernel/host-facts.js';
import { pickFlavor, type LadderResult } from '../flavor-ladder.js';
import {
  buildProbeInvocation,
  validateCommFilter,
  validatePidFilter,
  type ExecEntry,
  type ProbeInvocation,
  type ProgramVariant,
  type VmaRemovalFunction,
} from '../probe-program.js';
import type { Flavor } from '../trace-format.js';
import { TraceWriter } from '../trace-writer.js';
import type { RecordError, RecordOptions } from './types.js';

export interface SessionPlan {
  bpftrace: string;
  bpftraceVersion: string;
  flavor: Flavor;
  ladder: LadderResult;
  invocation: ProbeInvocation;
  /** Extra environment for bpftrace (BPFTRACE_BTF where it does not find the BTF itself). */
  env: Record<string, string>;
  writer: TraceWriter | null;
}

export type PreflightResult = { ok: true; plan: SessionPlan } | { ok: false; error: RecordError } | { ok: false; stopped: true };

const failure = (shortMessage: string, cause = shortMessage): PreflightResult => ({ ok: false, error: { shortMessage, cause } });

/** `stopped()`: a Ctrl-C during the trials also hits the trial bpftrace; it is a stop, not a failure. */
export async function preflight(opts: RecordOptions, stopped: () => boolean): Promise<PreflightResult> {
  const { pid, comm } = opts;
  // Filters first: a bad value must never reach bpftrace (probe-program.ts validates, and
  // passes them as positional parameters, never as program text).
  try {
    if (pid !== null) validatePidFilter(pid);
  } catch (err) {
    return failure(`invalid -p/--pid: ${(err as Error).message}`);
  }
  try {
    if (comm !== null) validateCommFilter(comm);
  } catch (err) {
    return failure(`invalid -c/--comm: ${(err as Error).message}`);
  }
  if (!isRoot()) return failure('exetrace must run as root to load BPF programs (try: sudo exetrace ...)', `uid ${process.getuid?.()}`);
  const bpftrace = opts.bpftrace ?? findBpftrace();
  if (bpftrace === null) return failure('bpftrace not found; apt-get install bpftrace');
  const version = bpftraceVersion(bpftrace);
  if (!version.ok) return failure(version.reason);
  const tracefs = ensureTracefs();
  if (!tracefs.ok) return failure(tracefs.reason);

  // The trials are subprocesses: BTF is read meanwhile.
  const dialect = dialectFor(parseBpftraceVersion(version.value));
  const trials = pickFlavor(opts.flavor, { bpftrace, untriedLast: true, dialect });
  const findsBtfAsked = bpftraceFindsBtfAsync(bpftrace);
  let mountOffset: number;
  let commOffset: number;
  let siblingOffset: number;
  let vmaRemovalFunction: VmaRemovalFunction;
  let btf: Btf | null = null;
  let btfError: string | null = null;
  try {
    btf = new Btf(readFileSync(VMLINUX_BTF_PATH), VMLINUX_BTF_PATH);
    mountOffset = mountMntOffset(btf);
    commOffset = taskMemberOffset(btf, 'comm');
    siblingOffset = taskMemberOffset(btf, 'sibling');
    vmaRemovalFunction = btf.func('remove_vma').exists ? 'remove_vma' : 'vm_area_free';
  } catch (err) {
    btfError = (err as Error).message;
    mountOffset = 0;
    commOffset = 0;
    siblingOffset = 0;
    vmaRemovalFunction = 'remove_vma';
  }
  const execEntry = detectExecEntry(btf);
  // Without BTF bpftrace parses the programs' struct casts with kernel headers, which stock
  // systems lack: hand it the file. (kfunc still cannot load then: it needs the BTF object id.)
  const findsBtf = await findsBtfAsked;
  const env: Record<string, string> = findsBtf.ok && !findsBtf.value && btfPresent() ? { BPFTRACE_BTF: BTF_PATH } : {};
  const ladder = await trials;
  if (stopped()) return { ok: false, stopped: true };
  if (ladder.chosen === null) return failure(`no probe flavor loads on this kernel (requested ${opts.flavor})`, ladder.reason);
  const flavor = ladder.chosen;
  if (btfError !== null) return failure(`cannot read struct mount's and task_struct's layout from BTF: ${btfError}`);
  // The tracepoint flavor has no exec entry function to find (sched_prepare_exec is its hook).
  if (flavor !== 'tracepoint' && !execEntry.ok) return failure(`the ${flavor} flavor cannot find exec's entry function`, execEntry.reason);
  const entryFn: ExecEntry = execEntry.ok ? execEntry.fn : 'begin_new_exec';
  const variant: ProgramVariant = { dialect, execEntry: entryFn };

  let invocation: ProbeInvocation;
  try {
    invocation = buildProbeInvocation({ flavor, pid, comm, selfPid: process.pid, mountOffset, commOffset, siblingOffset, vmaRemovalFunction, variant });
  } catch (err) {
    return failure(`cannot build the probe invocation: ${(err as Error).message}`);
  }

  let writer: TraceWriter | null = null;
  if (opts.out !== null) {
    try {
      writer = TraceWriter.create(opts.out);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return failure(`cannot create ${opts.out}: ${e.code ?? e.message}`, e.message);
    }
  }
  return { ok: true, plan: { bpftrace, bpftraceVersion: version.value, flavor, ladder, invocation, env, writer } };
}
