// The recorder's public contract: what a session is asked to do and what it answers.
import type { ParseIssue, TraceConsumer } from '../consumer.js';
import type { RunnerError } from '../bpftrace-stderr.js';
import type { TraceEventKind } from '../events.js';
import type { FlavorRequest, LadderResult } from '../flavor-ladder.js';
import type { Flavor, TraceHeader, TraceTrailer } from '../trace-format.js';

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
  /** The trace header's hostname instead of this host's (a fleet member's chosen name). */
  hostname?: string;
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
  /** Events delivered behind one already released (a CPU offline for seconds): kept, out of order. */
  lateEvents: number;
}

export type StopReason = TraceTrailer['reason'];

export function emptyResult(): RecordResult {
  return {
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
}
