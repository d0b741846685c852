// The hooks every consumer implements (dashboard, trace writer, report writers, the model driver).
// A live recording and a replay of a trace file call the same hooks in the same order:
// onHeader once, then onEvent/onIssue interleaved in stream order, then onEnd once.
import type { TraceEvent } from './events.js';
import type { TraceHeader, TraceTrailer } from './trace-format.js';

/** A line that could not be decoded. `source` is a file path or "bpftrace". Never thrown. */
export interface ParseIssue {
  source: string;
  line: number;
  cause: string;
  raw: string;
}

export interface TraceConsumer {
  onHeader?(header: TraceHeader): void;
  onEvent(event: TraceEvent): void;
  onIssue?(issue: ParseIssue): void;
  onEnd?(trailer: TraceTrailer): void;
}
