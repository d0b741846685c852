// `exetrace analyze A B …`: one report over several traces. Each file is streamed through its own
// reducer (analyzeTrace); its section is written as soon as that file is done, so memory holds one
// trace's findings at a time, and only the small per-trace summaries are kept for the totals.
import type { ModelOptions, ModelState } from '../model/index.js';
import type { AnalyzeReport } from './analysis.js';
import { analyzeTrace } from './analyze-trace.js';
import type { ReadProgress } from './progress.js';
import { sanitize } from './sanitize.js';
import { prepareSection, writeAndWait } from './prepared-section.js';
import { totalsOf, type ReportDocument } from './totals.js';

export interface AnalyzeFilesOptions {
  filters: { pid: number | null; comm: string | null };
  progress?: ReadProgress;
  lenient?: boolean;
  model?: Partial<ModelOptions>;
  registerCleanup?: (cleanup: () => void) => () => void;
}

/** Analyse `files` into one report on `out`; bad lines and unreadable files go to `err`. Exit status: 0, or 2 if a file was not a trace. */
export async function analyzeFiles(
  files: readonly string[],
  doc: ReportDocument,
  opts: AnalyzeFilesOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const summaries: AnalyzeReport[] = [];
  let written = 0;
  let status = 0;
  const n = files.length;
  for (const [index, file] of files.entries()) {
    opts.progress?.file(index);
    const onBatch = opts.progress === undefined ? undefined : (state: ModelState) => opts.progress!.update(state);
    const section = await prepareSection(
      (o) => analyzeTrace(file, o),
      doc.section(written, n),
      { filters: opts.filters, onBatch, lenient: opts.lenient, registerCleanup: opts.registerCleanup, model: opts.model },
      err,
    );
    try {
      const { report, header, badLine } = section.result;
      // Only what the totals need is kept: not the findings or mms of every trace.
      summaries.push({ ...report, findings: [], mms: [] });
      if (header === null) {
        err.write(`exetrace analyze: ${sanitize(file)} is not a readable exetrace trace\n`);
        status = 2;
        continue;
      }
      if (badLine !== null) {
        err.write(`exetrace analyze: stopped at the bad line ${sanitize(file)}:${badLine.line}; --lenient skips bad lines and counts them\n`);
        status = 2;
        continue;
      }
      opts.progress?.pause();
      await writeAndWait(out, written === 0 ? doc.begin(n) : doc.between);
      await section.write(out);
      written++;
    } finally {
      section.dispose();
    }
  }
  opts.progress?.pause();
  if (written > 0) await writeAndWait(out, doc.end(totalsOf(summaries), n));
  return status;
}
