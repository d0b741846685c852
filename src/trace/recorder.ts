// The live session: host facts → flavor → header → startup snapshot → bpftrace → decoder →
// reorder window → consumers (the trace writer and any other TraceConsumer). Snapshots of
// /proc taken during the run join the same stream, so a replay reaches the live verdicts.
// Every failure ends as a result with a trailer when a trace was started; nothing recorded is lost.
import { readFileSync } from 'node:fs';
import { hostname, release } from 'node:os';
import { Btf, mountMntOffset, VMLINUX_BTF_PATH } from '../kernel/btf.js';
import { bpftraceVersion, ensureTracefs, findBpftrace, isRoot } from '../kernel/host-facts.js';
import { TOOL_VERSION } from '../version.js';
import { tracepointsOf } from './available-events.js';
import { BpftraceRunner, type RunnerError, type RunnerResult } from './bpftrace-runner.js';
import type { ParseIssue, TraceConsumer } from './consumer.js';
import { ProbeDecoder } from './decoder.js';
import type { TraceEvent, TraceEventKind } from './events.js';
import { pickFlavor, type FlavorRequest, type LadderResult } from './flavor-ladder.js';
import { buildProbeInvocation, validateCommFilter, validatePidFilter, type VmaRemovalFunction } from './probe-program.js';
import { indexSnapshots, monotonicNs, snapshotAll, snapshotChangedSince } from './proc-snapshot.js';
import { onlineCpus } from '../kernel/cpus.js';
import { CpuOrderMerge, DEFAULT_STALE_NS } from './reorder.js';
import { SnapshotScheduler } from './snapshot-scheduler.js';
import { SCHEMA_VERSION, TRACE_MAGIC, TRAILER_MAGIC, type Flavor, type TraceHeader, type TraceTrailer } from './trace-format.js';
import { TraceWriter } from './trace-writer.js';

/**
 * bpftrace's per-CPU output ring defaults to 64 pages; an exec burst (a shell loop, a build)
 * overflowed it and lost thousands of events here. 1024 pages (4 MiB per CPU) held them.
 * A value the user exported wins.
 */
export const PERF_RB_PAGES = 1024;
function perfBufferEnv(): Record<string, string> {
  return { BPFTRACE_PERF_RB_PAGES: process.env.BPFTRACE_PERF_RB_PAGES ?? String(PERF_RB_PAGES) };
}

export interface RecordOptions {
  /** Trace file to write, or null to only feed consumers (e.g. a dashboard without --record). */
  out: string | null;
  flavor: FlavorRequest;
  pid: number | null;
  comm: string | null;
  /** Stop after this long once probes are attached; null = until stop(). */
  durationMs: number | null;
  consumers?: TraceConsumer[];
  onAttached?(info: { probes: number; flavor: Flavor; ladder: LadderResult }): void;
  bpftrace?: string;
}

/** Why recording could not start or went wrong: a one-liner plus the evidence. */
export interface RecordError {
  shortMessage: string;
  cause: string;
  /** Set when it came from bpftrace. */
  runner?: RunnerError;
  /** The trace file could not be written (disk full, I/O error): it ends at the failure. */
  writeFailed?: boolean;
}

export interface RecordResult {
  /** 0 clean stop (duration or signal); 1 an error (setup, bpftrace died, write failed). */
  exitCode: number;
  error: RecordError | null;
  /** null when recording failed before a header was written. */
  trailer: TraceTrailer | null;
  header: TraceHeader | null;
  flavor: Flavor | null;
  probes: number;
  counts: Partial<Record<TraceEventKind, number>>;
  lostEvents: number;
  parseIssues: ParseIssue[];
  snapshots: { startup: number; taken: number; skipped: number; vanished: number };
  /** Events that arrived too late for the reorder window (kept, but out of order). */
  lateEvents: number;
}

/** Parse issues kept in memory for the summary (the count is exact; the list is capped). */
const KEEP_ISSUES = 50;

export class Recorder {
  private readonly opts: RecordOptions;
  private stopReason: TraceTrailer['reason'] | null = null;
  private runner: BpftraceRunner | null = null;
  private wakeStop: () => void = () => {};
  private readonly stopRequested = new Promise<void>((resolve) => (this.wakeStop = resolve));

  constructor(opts: RecordOptions) {
    this.opts = opts;
  }

  /** bpftrace's pid once it runs (tests kill it to simulate a crash). */
  get bpftracePid(): number | undefined {
    return this.runner?.pid;
  }

  /** Ask the session to end; safe to call at any time and more than once. */
  stop(reason: 'signal' | 'duration' = 'signal'): void {
    this.stopReason ??= reason;
    this.wakeStop();
    void this.runner?.stop();
  }

  async run(): Promise<RecordResult> {
    const result: RecordResult = {
      exitCode: 1,
      error: null,
      trailer: null,
      header: null,
      flavor: null,
      probes: 0,
      counts: {},
      lostEvents: 0,
      parseIssues: [],
      snapshots: { startup: 0, taken: 0, skipped: 0, vanished: 0 },
      lateEvents: 0,
    };
    const fail = (shortMessage: string, cause = shortMessage): RecordResult => ({ ...result, error: { shortMessage, cause } });
    const { pid, comm } = this.opts;

    // Filters first: a bad value must never reach bpftrace (probe-program.ts validates, and
    // passes them as positional parameters, never as program text).
    try {
      if (pid !== null) validatePidFilter(pid);
    } catch (err) {
      return fail(`invalid -p/--pid: ${(err as Error).message}`);
    }
    try {
      if (comm !== null) validateCommFilter(comm);
    } catch (err) {
      return fail(`invalid -c/--comm: ${(err as Error).message}`);
    }
    if (!isRoot()) return fail('exetrace must run as root to load BPF programs (try: sudo exetrace ...)', `uid ${process.getuid?.()}`);
    const bpftrace = this.opts.bpftrace ?? findBpftrace();
    if (bpftrace === null) return fail('bpftrace not found; apt-get install bpftrace');
    const version = bpftraceVersion(bpftrace);
    if (!version.ok) return fail(version.reason);
    const tracefs = ensureTracefs();
    if (!tracefs.ok) return fail(tracefs.reason);

    const ladder = await pickFlavor(this.opts.flavor, { bpftrace });
    // A Ctrl-C during the trials also hits the trial bpftrace (same process group): a stop, not a failure.
    if (this.stopReason !== null) return { ...result, exitCode: 0 };
    if (ladder.chosen === null) {
      return fail(`no probe flavor loads on this kernel (requested ${this.opts.flavor})`, ladder.reason);
    }
    const flavor = ladder.chosen;
    result.flavor = flavor;

    let mountOffset: number;
    let vmaRemovalFunction: VmaRemovalFunction;
    try {
      const btf = new Btf(readFileSync(VMLINUX_BTF_PATH), VMLINUX_BTF_PATH);
      mountOffset = mountMntOffset(btf);
      vmaRemovalFunction = btf.func('remove_vma').exists ? 'remove_vma' : 'vm_area_free';
    } catch (err) {
      return fail(`cannot read struct mount's layout from BTF: ${(err as Error).message}`);
    }
    let invocation: { scriptPath: string; args: string[] };
    try {
      invocation = buildProbeInvocation({ flavor, pid, comm, selfPid: process.pid, mountOffset, vmaRemovalFunction });
    } catch (err) {
      return fail(`cannot build the probe invocation: ${(err as Error).message}`);
    }

    let writer: TraceWriter | null = null;
    if (this.opts.out !== null) {
      try {
        writer = TraceWriter.create(this.opts.out);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        return fail(`cannot create ${this.opts.out}: ${e.code ?? e.message}`, e.message);
      }
    }
    const consumers: TraceConsumer[] = [...(writer ? [writer] : []), ...(this.opts.consumers ?? [])];

    // One simultaneous reading of both clocks (monotonic read between two wall reads).
    const wall0 = Date.now();
    const mono = monotonicNs();
    const header: TraceHeader = {
      magic: TRACE_MAGIC,
      schemaVersion: SCHEMA_VERSION,
      toolVersion: TOOL_VERSION,
      kernelRelease: release(),
      bpftraceVersion: version.value,
      flavor,
      hostname: hostname(),
      startedAt: new Date(wall0).toISOString(),
      clockRef: { monotonicNs: mono, wallMs: Math.round((wall0 + Date.now()) / 2) },
      filters: { pid, comm },
    };
    result.header = header;
    for (const c of consumers) c.onHeader?.(header);

    let events = 0;
    let parseIssueCount = 0;
    const deliver = (e: TraceEvent): void => {
      events++;
      result.counts[e.kind] = (result.counts[e.kind] ?? 0) + 1;
      if (e.kind === 'gap') result.lostEvents += e.lost;
      for (const c of consumers) c.onEvent(e);
    };
    const issue = (i: ParseIssue): void => {
      if (result.parseIssues.length < KEEP_ISSUES) result.parseIssues.push(i);
      parseIssueCount++;
      for (const c of consumers) c.onIssue?.(i);
    };

    // Startup snapshot: processes that started before tracing are covered. Taken before
    // bpftrace so it sorts first; once the probes are attached, a second pass adds the
    // processes that started or exec'd while bpftrace compiled (seconds, with no event).
    const startup = snapshotAll({ pid, comm });
    for (const e of startup.events) deliver(e);
    result.snapshots.startup = startup.events.length;
    writer?.flush();
    if (writer?.error) this.stopReason = 'error'; // e.g. disk full already: do not start bpftrace

    const decoder = new ProbeDecoder({ onUnresolvedFile: () => this.runner?.requestForget() });
    // Identities the probes never walk (the exe of a process older than the session) get their path from /proc.
    for (const e of startup.events) if (e.kind === 'proc_snapshot' && e.exeDev !== null && e.exeIno !== null && e.exeLink !== null) decoder.learnPath(e.exeDev, e.exeIno, e.exeLink);
    let online = { at: 0, cpus: new Set<number>() };
    const isOnline = (cpu: number): boolean => {
      if (Date.now() - online.at > 1000) online = { at: Date.now(), cpus: onlineCpus() };
      return online.cpus.has(cpu);
    };
    const reorder = new CpuOrderMerge(deliver, onlineCpus(), DEFAULT_STALE_NS, isOnline);
    const scheduler = new SnapshotScheduler({ emit: (e) => reorder.push(e, null) });

    let runnerResult: RunnerResult | null = null;
    let writeError: Error | null = null;
    const writeWatch = setInterval(() => {
      if (writer?.error && writeError === null) {
        writeError = writer.error;
        this.stopReason ??= 'error';
        void this.runner?.stop();
      }
    }, 250);
    let durationTimer: NodeJS.Timeout | null = null;
    try {
      if (this.stopReason === null) {
        const runner = new BpftraceRunner({
          bpftrace,
          args: invocation.args,
          env: perfBufferEnv(),
          tracepoints: tracepointsOf(readFileSync(invocation.scriptPath, 'utf8')),
          decoder,
          onOutput: (out) => {
            if (out.type === 'event') {
              scheduler.observe(out.event);
              reorder.push(out.event, out.cpu);
            } else if (out.type === 'tick') reorder.watermark(out.cpu, out.ts);
            else if (out.type === 'issue') issue(out.issue);
          },
        });
        this.runner = runner;
        // A stop() that raced with construction.
        if (this.stopReason !== null) void runner.stop();
        void runner.attached.then((probes) => {
          if (probes === 0) return;
          result.probes = probes;
          const late = snapshotChangedSince(indexSnapshots(startup.events), { pid, comm });
          for (const e of late) reorder.push(e, null);
          result.snapshots.startup += late.length;
          this.opts.onAttached?.({ probes, flavor, ladder });
          if (this.opts.durationMs !== null) durationTimer = setTimeout(() => this.stop('duration'), this.opts.durationMs);
        });
        runnerResult = await runner.done;
      }
    } finally {
      clearInterval(writeWatch);
      if (durationTimer) clearTimeout(durationTimer);
      scheduler.stop();
      reorder.flush();
    }

    result.snapshots.taken = scheduler.taken;
    result.snapshots.skipped = scheduler.skipped;
    result.snapshots.vanished = scheduler.vanished;
    result.lateEvents = reorder.late;

    const runnerError = runnerResult?.error ?? null;
    writeError ??= writer?.error ?? null;
    let reason: TraceTrailer['reason'] = this.stopReason ?? 'bpftrace-exited';
    let error: RecordError | null = null;
    if (writeError !== null) {
      reason = 'error';
      error = { shortMessage: `writing ${this.opts.out} failed: ${writeError.message}`, cause: writeError.message, writeFailed: true };
    } else if (runnerError !== null) {
      reason = result.probes > 0 ? 'bpftrace-exited' : 'error';
      error = { shortMessage: runnerError.shortMessage, cause: runnerError.cause, runner: runnerError };
    } else if (this.stopReason === null) {
      // bpftrace ended by itself without an error message: still not what the user asked for.
      error = { shortMessage: 'bpftrace exited on its own', cause: `exit code ${runnerResult?.exitCode ?? '?'}` };
    }
    const trailer: TraceTrailer = {
      magic: TRAILER_MAGIC,
      endedAt: new Date().toISOString(),
      events,
      lostEvents: result.lostEvents,
      parseIssues: parseIssueCount,
      reason,
      error: error?.shortMessage ?? null,
      skippedSnapshots: scheduler.skipped,
      incompleteEvents: decoder.counts.incompleteEvents,
      bpftraceLostRecords: decoder.counts.bpftraceLostRecords,
      drain: this.runner?.drain ? { complete: this.runner.drain.complete, answeredCpus: this.runner.drain.answered, cpus: this.runner.drain.expected } : null,
    };
    for (const c of consumers) c.onEnd?.(trailer);
    writer?.close();
    // Writing the trailer or the final fsync can fail too.
    const finalError: RecordError | null =
      error ?? (writer?.error ? { shortMessage: `writing ${this.opts.out} failed: ${writer.error.message}`, cause: writer.error.message, writeFailed: true } : null);
    return { ...result, trailer, error: finalError, exitCode: finalError ? 1 : 0 };
  }
}
