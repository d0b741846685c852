// One analysed trace, rendered as a report section and held until it is printed: its ended mms
// wait in a spool file (nothing per mm stays in memory), as the section's head (counts, findings)
// is only known at the end. analyze of files prints each as soon as it is ready; analyze of a
// fleet stream prepares a section per recording while the stream is read.
import type { ModelOptions, ModelState } from '../model/index.js';
import type { AnalyzeReport } from './analysis.js';
import type { AnalyzeOptions, AnalyzeResult } from './analyze-trace.js';
import { sanitize } from './sanitize.js';
import { Spool } from './spool.js';
import type { ReportFormat } from './text.js';

export interface SectionOptions {
  filters: { pid: number | null; comm: string | null };
  /** After each batch, with the model state so far (the progress bar). */
  onBatch?: (state: ModelState) => void;
  /** Skip bad lines and count them, instead of stopping at the first (`result.badLine`). */
  lenient?: boolean;
  /** Model options (exception rules). */
  model?: Partial<ModelOptions>;
  /** Registers a cleanup to run if the process must end early (its output closed); returns the unregister call. */
  registerCleanup?: (cleanup: () => void) => () => void;
}

export interface PreparedSection {
  /** The whole analysis; `header` null when the trace had no valid header (nothing to print). */
  result: AnalyzeResult;
  write(out: NodeJS.WritableStream): Promise<void>;
  dispose(): void;
}

/** Write and wait for the stream to take it (a pipe to `less` must not buffer the whole report). */
export async function writeAndWait(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (text.length > 0 && !out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
}

/** Run one analysis, rendering with `format`, and keep the section until the caller prints it. */
export async function prepareSection(
  analyze: (o: AnalyzeOptions) => Promise<AnalyzeResult>,
  format: ReportFormat,
  opts: SectionOptions,
  err: NodeJS.WritableStream,
): Promise<PreparedSection> {
  const spool = new Spool();
  const unregister = opts.registerCleanup?.(() => spool.dispose()) ?? (() => undefined);
  const dispose = (): void => {
    unregister();
    spool.dispose();
  };
  try {
    let streamed = 0;
    const result = await analyze({
      filters: opts.filters,
      onIssue: (i) => err.write(`${sanitize(i.file)}:${i.line}: ${sanitize(i.cause)}\n`),
      onEndedMm: (m, h) => {
        spool.write(format.mm(m, { trace: { header: h } }, streamed === 0));
        streamed++;
      },
      onBatch: opts.onBatch,
      lenient: opts.lenient === true,
      model: opts.model,
    });
    const report: AnalyzeReport = result.report;
    return {
      result,
      write: async (out) => {
        const total = streamed + report.mms.length;
        await writeAndWait(out, format.head(report, total));
        await spool.copyTo(out);
        let n = streamed;
        for (const m of report.mms) {
          await writeAndWait(out, format.mm(m, report, n === 0));
          n++;
        }
        await writeAndWait(out, format.tail(report, total));
      },
      dispose,
    };
  } catch (e) {
    dispose();
    throw e;
  }
}
