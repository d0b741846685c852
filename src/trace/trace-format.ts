// The recorded trace: JSON lines, a header first, then one TraceEvent per line.
// Documented in docs/trace-format.md; bump SCHEMA_VERSION on any incompatible change.

export const SCHEMA_VERSION = 1;
export const TRACE_MAGIC = 'exetrace-trace';

export type Flavor = 'tracepoint' | 'kprobe' | 'kfunc';

export interface TraceHeader {
  magic: typeof TRACE_MAGIC;
  schemaVersion: number;
  toolVersion: string;
  kernelRelease: string;
  bpftraceVersion: string;
  flavor: Flavor;
  hostname: string;
  /** ISO-8601 wall time when recording started. */
  startedAt: string;
  /** One simultaneous reading of both clocks, to turn event `ts` (CLOCK_MONOTONIC ns) into wall time. */
  clockRef: { monotonicNs: number; wallMs: number };
  /** The filters in force, so a reader knows what the trace cannot contain. */
  filters: { pid: number | null; comm: string | null };
}

/** The last line of a complete trace. A trace without it was cut short (crash, kill -9, disk full). */
export interface TraceTrailer {
  magic: 'exetrace-trailer';
  endedAt: string;
  events: number;
  lostEvents: number;
  parseIssues: number;
  /** Why recording ended: duration elapsed, a signal, or bpftrace exiting on its own. */
  reason: 'duration' | 'signal' | 'bpftrace-exited' | 'error';
  error: string | null;
}
