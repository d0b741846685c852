// Phase 1 of a recording: everything that can fail before bpftrace starts (filters, root,
// bpftrace, tracefs, the flavor ladder, BTF, the probe invocation, the trace file), with a
// clear error for each. Nothing is written and nothing runs past this phase on failure (the
// tracepoint program, started beside the flavor trials, is killed then: early-start.ts).
import { existsSync, readFileSync } from 'node:fs';
import { Btf, mountMntOffset, taskMemberOffset, VMLINUX_BTF_PATH } from '../../kernel/btf.js';
import { detectExecEntry } from '../../kernel/exec-entry.js';
import { dialectFor, parseBpftraceVersion } from '../bpftrace-dialect.js';
import { bpftraceFindsBtfAsync, btfPresent, bpftraceVersionAsync, ensureTracefs, findBpftrace, isRoot } from '../../kernel/host-facts.js';
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
import type { BpftraceProcess, SpawnOptions } from '../bpftrace-process.js';
import type { WakeupPlan } from '../wakeup-batching.js';
import { bpftraceEnv, planRecorderWakeups } from './bpftrace-env.js';
import { compilePreloads } from '../compile-preloads.js';
import { keepEarly, spawnOptionsFor, startEarly, type EarlyStart } from './early-start.js';
import type { RecordError, RecordOptions } from './types.js';

export interface SessionPlan {
  bpftraceVersion: string;
  flavor: Flavor;
  ladder: LadderResult;
  invocation: ProbeInvocation;
  /** How bpftrace runs: its path, argv and environment (bpftrace-env.ts). */
  spawn: SpawnOptions;
  /** bpftrace already running with `spawn` (started beside the trials), or null. */
  started: BpftraceProcess | null;
  wakeups: WakeupPlan;
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
  // --version is a subprocess: tracefs and BTF are read meanwhile.
  const versionAsked = bpftraceVersionAsync(bpftrace);
  const tracefs = ensureTracefs();
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
  const version = await versionAsked;
  if (!version.ok) return failure(version.reason);
  if (!tracefs.ok) return failure(tracefs.reason);

  const dialect = dialectFor(parseBpftraceVersion(version.value));
  const wakeups = planRecorderWakeups(version.value);
  const compile = compilePreloads(parseBpftraceVersion(version.value));
  const invocationFor = (flavor: Flavor): ProbeInvocation => {
    // The tracepoint flavor has no exec entry function to find (sched_prepare_exec is its hook).
    const entryFn: ExecEntry = execEntry.ok ? execEntry.fn : 'begin_new_exec';
    const variant: ProgramVariant = { dialect, execEntry: entryFn };
    return buildProbeInvocation({ flavor, pid, comm, selfPid: process.pid, mountOffset, commOffset, siblingOffset, vmaRemovalFunction, variant });
  };
  // The tracepoint program starts now, beside the trials (early-start.ts), assuming bpftrace
  // finds the BTF itself (--info tells below; it did wherever the tracepoint flavor runs).
  let early: EarlyStart | null = null;
  if (btfError === null && (opts.flavor === 'auto' || opts.flavor === 'tracepoint')) {
    try {
      const invocation = invocationFor('tracepoint');
      if (existsSync(invocation.scriptPath)) early = startEarly(spawnOptionsFor(bpftrace, invocation, bpftraceEnv(wakeups, false, compile)));
    } catch {
      // Left to the normal path, which reports the same error.
    }
  }
  const trials = pickFlavor(opts.flavor, { bpftrace, untriedLast: true, dialect });
  const findsBtfAsked = bpftraceFindsBtfAsync(bpftrace);
  const findsBtf = await findsBtfAsked;
  const ladder = await trials;
  const fail = (shortMessage: string, cause?: string): PreflightResult => {
    keepEarly(early, null);
    return failure(shortMessage, cause);
  };
  if (stopped()) {
    keepEarly(early, null);
    return { ok: false, stopped: true };
  }
  if (ladder.chosen === null) return fail(`no probe flavor loads on this kernel (requested ${opts.flavor})`, ladder.reason);
  const flavor = ladder.chosen;
  if (btfError !== null) return fail(`cannot read struct mount's and task_struct's layout from BTF: ${btfError}`);
  if (flavor !== 'tracepoint' && !execEntry.ok) return fail(`the ${flavor} flavor cannot find exec's entry function`, execEntry.reason);

  let invocation: ProbeInvocation;
  try {
    invocation = invocationFor(flavor);
  } catch (err) {
    return fail(`cannot build the probe invocation: ${(err as Error).message}`);
  }
  const spawn = spawnOptionsFor(bpftrace, invocation, bpftraceEnv(wakeups, findsBtf.ok && !findsBtf.value && btfPresent(), compile));
  const started = keepEarly(early, spawn);

  let writer: TraceWriter | null = null;
  if (opts.out !== null) {
    try {
      writer = TraceWriter.create(opts.out);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      started?.discard();
      return failure(`cannot create ${opts.out}: ${e.code ?? e.message}`, e.message);
    }
  }
  return { ok: true, plan: { bpftraceVersion: version.value, flavor, ladder, invocation, spawn, started, wakeups, writer } };
}
