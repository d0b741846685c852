// What a trace reader hands out per line: a record of the trace file, or the error that line was.
import type { TraceEvent } from './events.js';
import type { TraceHeader, TraceTrailer } from './trace-format.js';

export type TraceRecord =
  | { type: 'header'; header: TraceHeader; line: number }
  | { type: 'event'; event: TraceEvent; line: number }
  | { type: 'trailer'; trailer: TraceTrailer; line: number }
  | {
      type: 'error';
      line: number;
      cause: string;
      raw: string;
      /** Set when the error is the trace ending early (no trailer, a partial last line, a cut gzip stream): what came before is sound. */
      truncation?: true;
    };
