// `exetrace analyze A B …`: one report over several traces. Each file is streamed through its own
// reducer (analyzeTrace); its section is written as soon as that file is done, so memory holds one
// trace's findings at a time, and only the small per-trace summaries are kept for the totals.
import type { ModelState } from '../model/index.js';
import type { AnalyzeReport } from './analysis.js';
import { analyzeTrace } from './analyze-trace.js';
import type { ReadProgress } from './progress.js';
import { sanitize } from './sanitize.js';
import { Spool } from './spool.js';
import { totalsOf, type ReportDocument } from './totals.js';

export interface AnalyzeFilesOptions {
  filters: { pid: number | null; comm: string | null };
  progress?: ReadProgress;
}

/** Write and wait for the stream to take it (a pipe to `less` must not buffer the whole report). */
async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (text.length > 0 && !out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
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
    const format = doc.section(written, n);
    // Each ended mm is rendered as it ends and parked on disk: the section's head (counts,
    // findings) is only known at the end, and nothing per mm may stay in memory.
    const spool = new Spool();
    try {
      let mmCount = 0;
      const { report, header } = await analyzeTrace(file, {
        filters: opts.filters,
        onIssue: (i) => err.write(`${sanitize(i.file)}:${i.line}: ${sanitize(i.cause)}\n`),
        onEndedMm: (m, h) => {
          spool.write(format.mm(m, { trace: { header: h } }, mmCount === 0));
          mmCount++;
        },
        onBatch: opts.progress === undefined ? undefined : (state: ModelState) => opts.progress!.update(state),
      });
      // Only what the totals need is kept: not the findings or mms of every trace.
      summaries.push({ ...report, findings: [], mms: [] });
      if (header === null) {
        err.write(`exetrace analyze: ${sanitize(file)} is not a readable exetrace trace\n`);
        status = 2;
        continue;
      }
      opts.progress?.pause();
      if (written === 0) await write(out, doc.begin(n));
      else await write(out, doc.between);
      const total = mmCount + report.mms.length;
      await write(out, format.head(report, total));
      await spool.copyTo(out);
      for (const m of report.mms) {
        await write(out, format.mm(m, report, mmCount === 0));
        mmCount++;
      }
      await write(out, format.tail(report, total));
      written++;
    } finally {
      spool.dispose();
    }
  }
  opts.progress?.pause();
  if (written > 0) await write(out, doc.end(totalsOf(summaries), n));
  return status;
}
