// Phase 2 of a recording: the live session. bpftrace starts first (usually already during
// preflight, early-start.ts; it compiles for a second or more), then the start-up snapshot of
// /proc is taken meanwhile; bpftrace's lines go through the decoder and the per-CPU ordered
// merge to the consumers, with /proc snapshots joining the same stream. It ends when bpftrace does: after stop() drained it, on its own, or on a write error.
import { hostname, release } from 'node:os';
import { onlineCpus } from '../../kernel/cpus.js';
import { TOOL_VERSION } from '../../version.js';
import { BpftraceRunner, type DrainOutcome, type RunnerResult } from '../bpftrace-runner.js';
import type { ParseIssue, TraceConsumer } from '../consumer.js';
import { ProbeDecoder, type DecoderCounts } from '../decoder.js';
import type { TraceEvent } from '../events.js';
import { indexSnapshots, monotonicNs, snapshotAll, snapshotChangedSince } from '../proc-snapshot.js';
import { ExecFilenameJoin } from '../exec-filename-join.js';
import { CpuOrderMerge, DEFAULT_STALE_NS } from '../reorder.js';
import { SnapshotScheduler } from '../snapshot-scheduler.js';
import { SCHEMA_VERSION, TRACE_MAGIC, type TraceHeader } from '../trace-format.js';
import type { SessionPlan } from './preflight.js';
import { raisePriority } from './priority.js';
import type { RecordOptions, RecordResult } from './types.js';

/** Parse issues kept in memory for the summary (the count is exact; the list is capped). */
const KEEP_ISSUES = 50;

export interface SessionHooks {
  /** The runner once it exists (stop() reaches bpftrace through it). */
  onRunner(runner: BpftraceRunner): void;
  /** Has a stop been asked for (before or during the session)? */
  stopRequested(): boolean;
  /** Ask for a stop from inside the session (duration elapsed, write error). */
  requestStop(reason: 'duration' | 'error'): void;
}

export interface SessionOutcome {
  header: TraceHeader;
  consumers: TraceConsumer[];
  events: number;
  parseIssueCount: number;
  /** Filled in place: counts, lostEvents, parseIssues, snapshots, lateEvents, probes. */
  result: RecordResult;
  runnerResult: RunnerResult | null;
  writeError: Error | null;
  decoderCounts: DecoderCounts;
  drain: DrainOutcome | null;
  skippedSnapshots: number;
}

export async function runSession(plan: SessionPlan, opts: RecordOptions, result: RecordResult, hooks: SessionHooks): Promise<SessionOutcome> {
  const { pid, comm } = opts;
  const { writer } = plan;
  const consumers: TraceConsumer[] = [...(writer ? [writer] : []), ...(opts.consumers ?? [])];

  const { wakeups } = plan;
  // One simultaneous reading of both clocks (monotonic read between two wall reads).
  const wall0 = Date.now();
  const mono = monotonicNs();
  const header: TraceHeader = {
    magic: TRACE_MAGIC,
    schemaVersion: SCHEMA_VERSION,
    toolVersion: TOOL_VERSION,
    kernelRelease: release(),
    bpftraceVersion: plan.bpftraceVersion,
    flavor: plan.flavor,
    hostname: opts.hostname ?? hostname(),
    startedAt: new Date(wall0).toISOString(),
    clockRef: { monotonicNs: mono, wallMs: Math.round((wall0 + Date.now()) / 2) },
    filters: { pid, comm },
    wakeups: wakeups.mode,
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

  let runner: BpftraceRunner | null = null;
  const decoder = new ProbeDecoder({ onUnresolvedFile: () => runner?.requestForget() });
  let online = { at: 0, cpus: new Set<number>() };
  const isOnline = (cpu: number): boolean => {
    if (Date.now() - online.at > 1000) online = { at: Date.now(), cpus: onlineCpus() };
    return online.cpus.has(cpu);
  };
  const join = new ExecFilenameJoin(deliver);
  const merge = new CpuOrderMerge((e) => join.push(decoder.resolveLate(e)), onlineCpus(), DEFAULT_STALE_NS, isOnline);
  const scheduler = new SnapshotScheduler({ emit: (e) => merge.push(e, null) });

  if (writer?.error) hooks.requestStop('error'); // e.g. disk full already: do not start bpftrace
  if (!hooks.stopRequested()) {
    runner = new BpftraceRunner({
      ...plan.spawn,
      ...(plan.started ? { started: plan.started } : {}),
      decoder,
      onOutput: (out) => {
        if (out.type === 'event') {
          scheduler.observe(out.event);
          merge.push(out.event, out.cpu);
        } else if (out.type === 'tick') merge.watermark(out.cpu, out.ts);
        else if (out.type === 'issue') issue(out.issue);
      },
    });
    hooks.onRunner(runner);
    raisePriority();
    if (runner.pid !== undefined) raisePriority(runner.pid);
  } else plan.started?.discard();

  // Start-up snapshot while bpftrace compiles: processes that started before tracing are
  // covered. It is delivered before any bpftrace line is read (this runs synchronously), so it
  // sorts first; once the probes are attached, a second pass adds the processes that started
  // or exec'd meanwhile.
  const startup = snapshotAll({ pid, comm });
  for (const e of startup.events) deliver(e);
  result.snapshots.startup = startup.events.length;
  writer?.flush();
  // Identities the probes never walk (the exe of a process older than the session) get their path from /proc.
  for (const e of startup.events) if (e.exeDev !== null && e.exeIno !== null && e.exeLink !== null) decoder.learnPath(e.exeDev, e.exeIno, e.exeLink);
  if (writer?.error) hooks.requestStop('error');

  let runnerResult: RunnerResult | null = null;
  let writeError: Error | null = null;
  const writeWatch = setInterval(() => {
    if (writer?.error && writeError === null) {
      writeError = writer.error;
      hooks.requestStop('error');
    }
  }, 250);
  let durationTimer: NodeJS.Timeout | null = null;
  try {
    if (runner !== null) {
      void runner.attached.then((probes) => {
        if (probes === 0) return;
        result.probes = probes;
        const late = snapshotChangedSince(indexSnapshots(startup.events), { pid, comm });
        for (const e of late) merge.push(e, null);
        result.snapshots.startup += late.length;
        opts.onAttached?.({ probes, flavor: plan.flavor, ladder: plan.ladder });
        if (opts.durationMs !== null) durationTimer = setTimeout(() => hooks.requestStop('duration'), opts.durationMs);
      });
      runnerResult = await runner.done;
    }
  } finally {
    clearInterval(writeWatch);
    if (durationTimer) clearTimeout(durationTimer);
    scheduler.stop();
    merge.flush();
  }
  result.snapshots.taken = scheduler.taken;
  result.snapshots.skipped = scheduler.skipped;
  result.snapshots.vanished = scheduler.vanished;
  result.lateEvents = merge.late;
  return {
    header,
    consumers,
    events,
    parseIssueCount,
    result,
    runnerResult,
    writeError: writeError ?? writer?.error ?? null,
    decoderCounts: decoder.counts,
    drain: runner?.drain ?? null,
    skippedSnapshots: scheduler.skipped,
  };
}
