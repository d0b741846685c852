// `exetrace export --perfetto`: Chrome trace-event JSON (what the Perfetto UI and chrome://tracing
// open), written while the trace is read. Each process instance is a Perfetto process, each mm
// it ran on a thread track; on it, the mm's life is a span with one nested span per exe_file
// epoch (exec, fork-inherit, prctl-replace ... up to teardown). Findings and /proc/PID/exe reads
// are instant events with their explanation in args; lost-event gaps are global instants.
// Memory is bounded by the live mms and pids, never by the number of events: spans are written
// as B/E pairs the moment the model reports each transition, and the output is flushed per batch.
import { once } from 'node:events';
import { mmOfPid, type ModelState } from '../model/index.js';
import type { EvidenceRef, FileAnswer, Finding, MmRecord, TransitionCause } from '../model/state.js';
import type { TraceEvent } from '../trace/events.js';
import type { TraceHeader } from '../trace/trace-format.js';
import { TOOL_VERSION } from '../version.js';
import type { ReportMm } from './analysis.js';
import { analyzeTrace, type TraceIssue } from './analyze-trace.js';
import { fileLine, shownPath } from './format.js';
import { sanitize } from './sanitize.js';

/** Trace-event phases used here: duration begin/end, instant, metadata. */
export type Phase = 'B' | 'E' | 'i' | 'M';

export interface ChromeTraceEvent {
  ph: Phase;
  pid: number;
  tid: number;
  /** Optional on E: it closes the innermost open span of its track. */
  name?: string;
  ts?: number;
  cat?: string;
  /** Instant scope: thread or global. */
  s?: 't' | 'g';
  args?: Record<string, unknown>;
}

/** The pid of the track that holds trace-wide marks (lost events); above any real pid (PID_MAX_LIMIT is 2^22). */
export const TRACE_TRACK_PID = 1 << 30;
/** Reused pids get fresh Perfetto pids from here on, so two processes never share a track. */
const REUSED_PID_BASE = TRACE_TRACK_PID + 1;
/**
 * mm tracks are threads numbered from here: never equal to any pid above, so no viewer can take
 * an mm track for some process's main thread (tid == pid).
 */
const MM_TID_BASE = 1 << 29;
/** The trace-wide track is its process's main thread. */
const TRACE_TRACK = { pid: TRACE_TRACK_PID, tid: TRACE_TRACK_PID };

interface TransitionLike {
  ts: number;
  cause: TransitionCause;
  exe: { path: string | null; pathTruncated: boolean; name: string; dev: number; ino: number } | null;
  pid: number | null;
  tid: number | null;
  note?: string | null;
  evidence: EvidenceRef;
}

interface MmLike {
  key: string;
  pids: readonly number[];
  comm: string;
  timeline: readonly TransitionLike[];
  timelineDropped: number;
}

interface Track {
  pid: number;
  tid: number;
  /** ts (µs) of the last event written on this track: B/E must not go back in time. */
  lastUs: number;
  /** Transitions written (timeline length + dropped when last looked). */
  transitions: number;
  epochOpen: boolean;
}

interface ProcessInstance {
  perfettoPid: number;
  /** 1 for the first process seen with this pid, 2 for the next one after it died, ...; 0: a reuse whose count was forgotten. */
  use: number;
  /** ts of its first mm, and of its death (exit of the group, or a fork that made a new process with its pid). */
  bornAt: number;
  diedAt: number | null;
  named: string | null;
  /** Its latest mm track: where reads of its exe link land once its mm is gone. */
  lastTrack: { pid: number; tid: number } | null;
}

/** PID_MAX_LIMIT: pids are below it, so one bit each says whether a pid was ever used. */
const PID_LIMIT = 4_194_304;
/** Dead processes remembered in full (late events, use counts); older ones only as a bit. */
const MAX_DEAD_KEPT = 8192;

const us = (ns: number): number => ns / 1000;

const fileArgs = (f: FileAnswer | TransitionLike['exe'] | null): string | null => (f === null ? null : sanitize(fileLine(f)));

/** A file for display: its path, else its name, else (a probe could not read either) its inode. */
const exeLabel = (f: TransitionLike['exe'] | FileAnswer | null, fallback: string): string =>
  f === null ? sanitize(fallback) : sanitize(shownPath(f)) || `(unnamed, ino ${f.ino})`;

const baseName = (s: string): string => s.slice(s.lastIndexOf('/') + 1) || s || '(unnamed)';

const evidenceArgs = (refs: readonly EvidenceRef[]): string[] =>
  refs.map((e) => `${e.kind}@${e.ts}${e.pid !== null ? ` pid ${e.pid}` : ''}${e.line !== undefined ? ` line ${e.line}` : ''}`);

/** Turns the model's changes into trace events; `take()` hands out what is ready to write. */
export class PerfettoTracks {
  private readonly tracks = new Map<string, Track>();
  /** Live processes and the most recently dead ones: memory bounded by those, not by every pid ever seen. */
  private readonly processes = new Map<number, ProcessInstance>();
  private readonly deadOrder = new Map<number, ProcessInstance>();
  private readonly pidEverUsed = new Uint8Array(PID_LIMIT >> 3);
  private nextTid = MM_TID_BASE + 1;
  private nextReusedPid = REUSED_PID_BASE;
  private findingsSeen = 0;
  /**
   * Findings by mm, as their numbers (counting every finding ever made): written when the mm
   * ends, as the model may still complete them until then (the loaded program, uncertainty).
   */
  private readonly pendingFindings = new Map<string, number[]>();
  private readonly endedQueue: ReportMm[] = [];
  private out: string[] = [];
  private written = 0;
  /** Events written so far. */
  get count(): number {
    return this.written;
  }

  constructor() {
    this.emit({ ph: 'M', ...TRACE_TRACK, name: 'process_name', args: { name: 'exetrace: trace-wide marks' } });
    this.emit({ ph: 'M', ...TRACE_TRACK, name: 'thread_name', args: { name: 'lost events' } });
  }

  private emit(e: ChromeTraceEvent): void {
    this.out.push(JSON.stringify(e));
    this.written++;
  }

  /** The JSON text of the events ready so far (each on its own line, comma-separated from the previous ones). */
  take(first: boolean): string {
    if (this.out.length === 0) return '';
    const text = `${first ? '\n' : ',\n'}${this.out.join(',\n')}`;
    this.out = [];
    return text;
  }

  /**
   * The process instance that owned pid at ts: one seen again after its death is a new one.
   * By ts, not by arrival: a trace's events can arrive a little out of order across CPUs.
   */
  private processOf(pid: number, ts: number): ProcessInstance {
    const known = this.processes.get(pid);
    if (known !== undefined && (known.diedAt === null || ts <= known.diedAt)) return known;
    const inRange = pid >= 0 && pid < PID_LIMIT;
    const reused = known !== undefined || (inRange && (this.pidEverUsed[pid >> 3]! & (1 << (pid & 7))) !== 0);
    const use = known !== undefined ? (known.use === 0 ? 0 : known.use + 1) : reused ? 0 : 1;
    const p: ProcessInstance = { perfettoPid: reused ? this.nextReusedPid++ : pid, use, bornAt: ts, diedAt: null, named: null, lastTrack: null };
    if (inRange) this.pidEverUsed[pid >> 3]! |= 1 << (pid & 7);
    this.processes.set(pid, p);
    return p;
  }

  private trackOf(m: MmLike): Track {
    const known = this.tracks.get(m.key);
    if (known !== undefined) return known;
    const owner = m.pids[0] ?? 0;
    const first = m.timeline[0];
    const proc = this.processOf(owner, first?.ts ?? 0);
    const track: Track = { pid: proc.perfettoPid, tid: this.nextTid++, lastUs: 0, transitions: 0, epochOpen: false };
    this.tracks.set(m.key, track);
    proc.lastTrack = { pid: track.pid, tid: track.tid };
    const exe = first?.exe ?? null;
    const name = baseName(exeLabel(exe, m.comm));
    // Named by the exe it runs; a reused pid says so, so two processes with one pid read apart.
    const processName = proc.use === 1 ? name : `${name} (pid ${owner} reused${proc.use > 1 ? `, use ${proc.use}` : ''})`;
    if (proc.named !== processName) {
      proc.named = processName;
      this.emit({ ph: 'M', pid: track.pid, tid: track.tid, name: 'process_name', args: { name: processName } });
      this.emit({
        ph: 'M',
        pid: track.pid,
        tid: track.tid,
        name: 'process_labels',
        args: { labels: `pid ${owner}${proc.use === 1 ? '' : ` (reused${proc.use > 1 ? `, use ${proc.use}` : ''})`}` },
      });
    }
    this.emit({ ph: 'M', pid: track.pid, tid: track.tid, name: 'thread_name', args: { name: `mm ${sanitize(m.key)} ${name}` } });
    this.emit({
      ph: 'B',
      pid: track.pid,
      tid: track.tid,
      ts: this.at(track, first?.ts ?? 0),
      cat: 'mm',
      name: `mm ${sanitize(m.key)}`,
      args: { mm: sanitize(m.key), pid: owner, comm: sanitize(m.comm) },
    });
    return track;
  }

  /** µs on a track, never before what the track already holds. */
  private at(track: Track, ns: number): number {
    track.lastUs = Math.max(track.lastUs, us(ns));
    return track.lastUs;
  }

  /** Write the transitions of m not written yet: each one ends the open epoch and (but teardown) opens the next. */
  private follow(m: MmLike): Track {
    const track = this.trackOf(m);
    const total = m.timeline.length + m.timelineDropped;
    const fresh = m.timeline.slice(Math.max(0, m.timeline.length - (total - track.transitions)));
    track.transitions = total;
    for (const t of fresh) {
      if (track.epochOpen) {
        this.emit({ ph: 'E', pid: track.pid, tid: track.tid, ts: this.at(track, t.ts), cat: 'exe_file', args: { endedBy: t.cause } });
        track.epochOpen = false;
      }
      if (t.cause === 'teardown') continue;
      this.emit({
        ph: 'B',
        pid: track.pid,
        tid: track.tid,
        ts: this.at(track, t.ts),
        cat: 'exe_file',
        name: baseName(exeLabel(t.exe, '(exe unknown)')),
        args: {
          cause: t.cause,
          exe: fileArgs(t.exe),
          pid: t.pid,
          tid: t.tid,
          note: t.note ? sanitize(t.note) : null,
          evidence: evidenceArgs([t.evidence])[0],
        },
      });
      track.epochOpen = true;
    }
    return track;
  }

  private close(track: Track, ns: number, args: Record<string, unknown>): void {
    if (track.epochOpen) this.emit({ ph: 'E', pid: track.pid, tid: track.tid, ts: this.at(track, ns), cat: 'exe_file' });
    track.epochOpen = false;
    this.emit({ ph: 'E', pid: track.pid, tid: track.tid, ts: this.at(track, ns), cat: 'mm', args });
  }

  /** An mm was torn down: handled with the next event(), which brings the state its findings are in. */
  ended(m: ReportMm): void {
    this.endedQueue.push(m);
  }

  private closeEnded(m: ReportMm, state: ModelState): void {
    const track = this.follow(m);
    this.flushFindings(m.key, state, track);
    this.close(track, m.endTs ?? m.startTs, { pids: m.pids, comm: sanitize(m.comm), findings: m.findingIds.length, gapsWhileAlive: m.gaps });
    this.tracks.delete(m.key);
  }

  /** After each event: the pid's mm may have changed, findings may have appeared, and the event itself may be a mark. */
  event(e: TraceEvent, state: ModelState): void {
    for (const m of this.endedQueue.splice(0)) this.closeEnded(m, state);
    if (e.kind === 'gap') {
      this.emit({
        ph: 'i',
        s: 'g',
        ...TRACE_TRACK,
        ts: us(e.ts),
        cat: 'gap',
        name: `lost ${e.lost} events`,
        args: { lost: e.lost, source: e.source },
      });
      return;
    }
    const mm = mmOfPid(state, e.pid);
    if (mm !== undefined) this.follow(mm);
    const total = state.findingsDropped + state.findings.length;
    for (; this.findingsSeen < total; this.findingsSeen++) {
      const f = state.findings[this.findingsSeen - state.findingsDropped];
      if (f === undefined) continue; // made and dropped within one event (the cap)
      const list = this.pendingFindings.get(f.mmKey);
      if (list === undefined) this.pendingFindings.set(f.mmKey, [this.findingsSeen]);
      else list.push(this.findingsSeen);
    }
    if (e.kind === 'exe_read') this.exeRead(e, state);
    // A new process: an older one with its pid is gone by then, even if its exit was lost.
    else if (e.kind === 'fork' && !e.thread) this.processDied(e.childPid, e.ts, true);
    else if (e.kind === 'exit' && e.groupDead) this.processDied(e.pid, e.ts, false);
  }

  private processDied(pid: number, ts: number, byFork: boolean): void {
    const p = this.processes.get(pid);
    // A fork that arrives after its child's own events (but happened before them) is its birth, not a reuse.
    if (p === undefined || (byFork && ts <= p.bornAt)) return;
    p.diedAt = p.diedAt === null ? ts : Math.min(p.diedAt, ts);
    this.deadOrder.delete(pid);
    this.deadOrder.set(pid, p);
    if (this.deadOrder.size > MAX_DEAD_KEPT) {
      const [oldPid, old] = this.deadOrder.entries().next().value!;
      this.deadOrder.delete(oldPid);
      if (this.processes.get(oldPid) === old) this.processes.delete(oldPid);
    }
  }

  /** The findings of mm `key` as the model has them now, as instants at their verdict time. */
  private flushFindings(key: string, state: ModelState, track: Track | null): void {
    const numbers = this.pendingFindings.get(key);
    if (numbers === undefined) return;
    this.pendingFindings.delete(key);
    for (const n of numbers) {
      const f = state.findings[n - state.findingsDropped];
      if (f !== undefined) this.finding(f, track);
    }
  }

  /** On its mm's track, at the verdict's time (earlier than what that track holds by now: instants need no order). */
  private finding(f: Finding, track: Track | null): void {
    this.instant(track, f.ts, `finding,${f.kind}`, `${f.class}${f.uncertain ? ' (uncertain)' : ''}`, {
      id: sanitize(f.id),
      class: f.class,
      kind: f.kind,
      explanation: sanitize(f.explanation),
      pid: f.pid,
      comm: sanitize(f.comm),
      exe: fileArgs(f.exe),
      vmaWalk: fileArgs(f.vmaWalk),
      legacyWalk: fileArgs(f.legacyWalk),
      related: (f.related ?? []).map((r) => `${r.role}: ${sanitize(fileLine(r.file))}`),
      uncertain: f.uncertain,
      evidence: evidenceArgs(f.evidence),
    });
  }

  /** A thread-scoped instant on a track (the trace-wide one without a track); instants need no order. */
  private instant(track: { pid: number; tid: number } | null, ns: number, cat: string, name: string, args: Record<string, unknown>): void {
    const where = track ?? TRACE_TRACK;
    this.emit({ ph: 'i', s: 't', pid: where.pid, tid: where.tid, ts: us(ns), cat, name, args });
  }

  /**
   * A read of /proc/PID/exe, on the track of the mm whose link was read; once that mm is gone (a
   * read racing the exit), on its process's last track; else on the reader's.
   */
  private exeRead(e: Extract<TraceEvent, { kind: 'exe_read' }>, state: ModelState): void {
    const target: MmRecord | undefined = e.targetPid !== null ? mmOfPid(state, e.targetPid) : undefined;
    const own = target === undefined ? mmOfPid(state, e.pid) : undefined;
    const gone = target === undefined && e.targetPid !== null ? (this.processes.get(e.targetPid)?.lastTrack ?? null) : null;
    const track = target !== undefined ? this.follow(target) : gone !== null ? gone : own !== undefined ? this.follow(own) : null;
    this.instant(track, e.ts, 'exe_read', `read /proc/${e.targetPid ?? '?'}/exe`, {
      reader: { pid: e.pid, tid: e.tid, comm: sanitize(e.comm) },
      target: e.targetPid,
      syscall: e.syscall,
      path: sanitize(e.path),
      answer: e.answer === null ? null : sanitize(e.answer),
      ret: e.ret,
    });
  }

  /** End of the trace: spans of mms still live close at the last event, marked as such. */
  finish(state: ModelState): void {
    for (const m of this.endedQueue.splice(0)) this.closeEnded(m, state);
    for (const [key, track] of [...this.tracks.entries()]) {
      this.flushFindings(key, state, track);
      this.close(track, state.lastTs, { liveAtEndOfTrace: true });
      this.tracks.delete(key);
    }
    // Findings of mms that never had a track (none is expected): on the trace-wide track.
    for (const key of [...this.pendingFindings.keys()]) this.flushFindings(key, state, null);
  }
}

export interface PerfettoExportOptions {
  onIssue?: (issue: TraceIssue) => void;
  /** After each batch, with the model state: progress. */
  onBatch?: (state: ModelState) => void;
  /** Skip bad lines and count them, instead of stopping at the first (`badLine`). */
  lenient?: boolean;
}

export interface PerfettoExportResult {
  header: TraceHeader | null;
  /** Without `lenient`: the bad line the export stopped at, else null. */
  badLine: TraceIssue | null;
  events: number;
  traceEvents: number;
}

/** Write `{"traceEvents":[...], ...}` for a trace file to out, a batch at a time, honouring backpressure. */
export async function exportPerfetto(file: string, out: NodeJS.WritableStream, opts: PerfettoExportOptions = {}): Promise<PerfettoExportResult> {
  const tracks = new PerfettoTracks();
  let first = true;
  // A write error (disk full, a closed pipe) ends the export with that error, never a hang.
  let failed: Error | null = null;
  const onError = (err: Error): void => {
    failed ??= err;
  };
  out.on('error', onError);
  const write = async (text: string): Promise<void> => {
    if (failed !== null) throw failed;
    if (text.length > 0 && !out.write(text)) await once(out as NodeJS.EventEmitter, 'drain');
  };
  const flush = async (): Promise<void> => {
    const text = tracks.take(first);
    if (text.length > 0) first = false;
    await write(text);
  };
  try {
    await write('{"traceEvents":[');
    const result = await analyzeTrace(file, {
      onIssue: opts.onIssue,
      lenient: opts.lenient === true,
      onEndedMm: (m) => tracks.ended(m),
      onEvent: (e, state) => tracks.event(e, state),
      onBatch: (state) => {
        opts.onBatch?.(state);
        return flush();
      },
    });
    tracks.finish(result.state);
    await flush();
    const t = result.report.trace;
    const otherData = {
      exetrace: TOOL_VERSION,
      file: sanitize(file),
      hostname: t.header ? sanitize(t.header.hostname) : null,
      kernelRelease: t.header ? sanitize(t.header.kernelRelease) : null,
      flavor: t.header?.flavor ?? null,
      clockRef: t.header?.clockRef ?? null,
      timestamps: 'CLOCK_MONOTONIC microseconds (clockRef converts to wall time)',
      events: t.events,
      lostEvents: t.lostEvents,
      gaps: t.gaps,
      parseErrors: t.parseErrors,
      truncated: t.truncated,
      findings: result.report.counts,
    };
    await write(`\n],\n"displayTimeUnit":"ms",\n"otherData":${JSON.stringify(otherData)}}\n`);
    return { header: result.header, badLine: result.badLine, events: t.events, traceEvents: tracks.count };
  } finally {
    out.off('error', onError);
  }
}
