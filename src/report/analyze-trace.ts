// Stream a recorded trace through the reducer: the driver behind `exetrace analyze` and the
// recorder's end-of-run summary. Bad lines are handed to onIssue and reading goes on.
import { initialState, reduce, type ModelOptions, type ModelState } from '../model/index.js';
import type { EvidenceSource } from '../model/state.js';
import type { TraceEvent } from '../trace/events.js';
import { readTrace } from '../trace/trace-reader.js';
import type { TraceHeader, TraceTrailer } from '../trace/trace-format.js';
import { buildReport, type AnalyzeReport } from './analysis.js';

export interface TraceIssue {
  file: string;
  line: number;
  cause: string;
}

export interface AnalyzeOptions {
  filters?: { pid: number | null; comm: string | null };
  onIssue?: (issue: TraceIssue) => void;
  /** Offline analysis can keep far more history than a live dashboard. */
  model?: Partial<ModelOptions>;
}

export interface AnalyzeResult {
  state: ModelState;
  header: TraceHeader | null;
  trailer: TraceTrailer | null;
  parseErrors: number;
  report: AnalyzeReport;
}

export const OFFLINE_MODEL_OPTIONS: Partial<ModelOptions> = { maxEndedMms: 200_000, maxFindings: 100_000 };

export async function analyzeTrace(file: string, opts: AnalyzeOptions = {}): Promise<AnalyzeResult> {
  let state = initialState({ ...OFFLINE_MODEL_OPTIONS, ...opts.model });
  let header: TraceHeader | null = null;
  let trailer: TraceTrailer | null = null;
  let parseErrors = 0;
  for await (const rec of readTrace(file)) {
    switch (rec.type) {
      case 'header':
        header = rec.header;
        break;
      case 'event': {
        // The reader's event object is ours alone: tag it with its line for evidence refs.
        const event = rec.event as TraceEvent & EvidenceSource;
        event.line = rec.line;
        state = reduce(state, event);
        break;
      }
      case 'trailer':
        trailer = rec.trailer;
        break;
      case 'error':
        // A missing trailer is reported as `truncated` in the report, not as a bad line.
        if (!rec.cause.startsWith('truncated:')) parseErrors++;
        opts.onIssue?.({ file, line: rec.line, cause: rec.cause });
        break;
    }
  }
  const report = buildReport(state, { file, header, trailer, parseErrors, filters: opts.filters ?? { pid: null, comm: null } });
  return { state, header, trailer, parseErrors, report };
}
