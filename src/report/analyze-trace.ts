// Stream a recorded trace through the reducer: the driver behind `exetrace analyze` and the
// recorder's end-of-run summary. Bad lines are handed to onIssue and reading goes on.
// Memory stays bounded: records arrive a chunk at a time, and each mm that ends is handed to
// onEndedMm (or collected, for small traces) the moment the reducer reports it.
import { endedSince, initialState, reduce, type ModelOptions, type ModelState } from '../model/index.js';
import type { EvidenceSource } from '../model/state.js';
import type { TraceEvent } from '../trace/events.js';
import { readTraceBatches, type TraceRecord } from '../trace/trace-reader.js';
import type { TraceHeader, TraceTrailer } from '../trace/trace-format.js';
import { buildReport, mmFilter, reportEndedMm, type AnalyzeReport, type ReportMm } from './analysis.js';

export interface TraceIssue {
  file: string;
  line: number;
  cause: string;
}

export interface AnalyzeOptions {
  filters?: { pid: number | null; comm: string | null };
  onIssue?: (issue: TraceIssue) => void;
  /**
   * Called once per ended mm that passes the filters, in the order they ended, with the trace
   * header (null only if the header was bad, when nothing ends). With it the report's mms hold
   * only the live ones; without it ended mms are collected into the report (small traces only).
   */
  onEndedMm?: (mm: ReportMm, header: TraceHeader | null) => void;
  /**
   * Skip bad lines and count them (true), or stop reading at the first one (false, the
   * default): `badLine` names it. A trace that merely ends early (no trailer, a partial last
   * line, a cut gzip stream) is read up to the cut either way.
   */
  lenient?: boolean;
  /** Offline analysis can keep far more history than a live dashboard. */
  model?: Partial<ModelOptions>;
  /** After each event is reduced (and the mms it ended went to onEndedMm): exporters follow the model here. */
  onEvent?: (event: TraceEvent & EvidenceSource, state: ModelState) => void;
  /** After each batch of records; a returned promise is awaited (output backpressure, progress). */
  onBatch?: (state: ModelState) => Promise<void> | void;
}

export interface AnalyzeResult {
  state: ModelState;
  header: TraceHeader | null;
  trailer: TraceTrailer | null;
  parseErrors: number;
  report: AnalyzeReport;
  /** Ended mms handed to onEndedMm. */
  streamedMms: number;
  /** Without `lenient`: the bad line that stopped reading, else null. */
  badLine: TraceIssue | null;
}

/**
 * The driver drains ended mms after every event, so the model need only remember a few; the
 * findings list is what analysis keeps in full (counts stay exact past the cap).
 */
export const OFFLINE_MODEL_OPTIONS: Partial<ModelOptions> = { maxEndedMms: 64, maxFindings: 100_000 };

export function analyzeTrace(file: string, opts: AnalyzeOptions = {}): Promise<AnalyzeResult> {
  return analyzeRecords(readTraceBatches(file), file, opts);
}

/** The same analysis over records from any source (a stream); `file` names it in issues and the report. */
export async function analyzeRecords(source: AsyncIterable<TraceRecord[]>, file: string, opts: AnalyzeOptions = {}): Promise<AnalyzeResult> {
  let state = initialState({ ...OFFLINE_MODEL_OPTIONS, ...opts.model });
  let header: TraceHeader | null = null;
  let trailer: TraceTrailer | null = null;
  let parseErrors = 0;
  const filters = opts.filters ?? { pid: null, comm: null };
  const keep = mmFilter(filters);
  const collected: ReportMm[] | null = opts.onEndedMm === undefined ? [] : null;
  const onEnded = opts.onEndedMm;
  let seenEnded = 0;
  let missedEnded = 0;
  let streamedMms = 0;
  const drain = (): void => {
    const cap = state.options.maxEndedMms;
    if (state.endedTotal - seenEnded > cap) missedEnded += state.endedTotal - seenEnded - cap;
    for (const e of endedSince(state, seenEnded)) {
      if (!keep(e.pids, e.comm)) continue;
      const m = reportEndedMm(e);
      if (collected !== null) collected.push(m);
      else {
        streamedMms++;
        onEnded!(m, header);
      }
    }
    seenEnded = state.endedTotal;
  };
  let badLine: TraceIssue | null = null;
  reading: for await (const batch of source) {
    for (const rec of batch) {
      switch (rec.type) {
        case 'header':
          header = rec.header;
          break;
        case 'event': {
          // The reader's event object is ours alone: tag it with its line for evidence refs.
          const event = rec.event as TraceEvent & EvidenceSource;
          event.line = rec.line;
          state = reduce(state, event);
          if (state.endedTotal !== seenEnded) drain();
          opts.onEvent?.(event, state);
          break;
        }
        case 'trailer':
          trailer = rec.trailer;
          break;
        case 'error':
          opts.onIssue?.({ file, line: rec.line, cause: rec.cause });
          // A trace cut short is reported as `truncated` in the report, not as a bad line.
          if (rec.truncation === true) break;
          parseErrors++;
          // Before a header nothing is read anyway: that is "not a trace", not a bad line.
          if (opts.lenient !== true && header !== null) {
            badLine = { file, line: rec.line, cause: rec.cause };
            break reading;
          }
          break;
      }
    }
    const wait = opts.onBatch?.(state);
    if (wait !== undefined) await wait;
  }
  const report = buildReport(state, { file, header, trailer, parseErrors, filters }, collected, missedEnded);
  return { state, header, trailer, parseErrors, report, streamedMms, badLine };
}
