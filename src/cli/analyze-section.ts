// One analysed trace, rendered in the chosen format and held (ended mms in a spool file, not in
// memory) until it is printed: analyze of a file prints one, analyze of a fleet stream several.
import type { AnalyzeOptions, AnalyzeResult } from '../report/analyze-trace.js';
import { jsonFormat } from '../report/json.js';
import { markdownFormat } from '../report/markdown.js';
import { sanitize } from '../report/sanitize.js';
import { Spool } from '../report/spool.js';
import { textFormat, type ReportFormat } from '../report/text.js';

export interface AnalyzeCliOptions {
  format: 'text' | 'json' | 'markdown';
  pid?: number;
  comm?: string;
}

const FORMATS: Record<AnalyzeCliOptions['format'], ReportFormat> = { text: textFormat, json: jsonFormat, markdown: markdownFormat };

/** Write and wait for the stream to take it (a pipe to `less` must not buffer the whole report). */
async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (text.length > 0 && !out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
}

/** One analysed trace, ready to print (its ended mms wait in a spool file, not in memory). */
export interface PreparedSection {
  write(out: NodeJS.WritableStream): Promise<void>;
  dispose(): void;
}

/** Run one analysis and keep its output until the caller prints it; null when the trace had no valid header. */
export async function prepareSection(
  analyze: (o: AnalyzeOptions) => Promise<AnalyzeResult>,
  opts: AnalyzeCliOptions,
  err: NodeJS.WritableStream,
): Promise<PreparedSection | null> {
  const format = FORMATS[opts.format];
  // Each ended mm is rendered as it ends and parked on disk: the report's head (counts,
  // findings) is only known at the end, and nothing per mm may stay in memory.
  const spool = new Spool();
  let ok = false;
  try {
    let mmCount = 0;
    const { report, header } = await analyze({
      filters: { pid: opts.pid ?? null, comm: opts.comm ?? null },
      onIssue: (i) => err.write(`${sanitize(i.file)}:${i.line}: ${sanitize(i.cause)}\n`),
      onEndedMm: (m, h) => {
        spool.write(format.mm(m, { trace: { header: h } }, mmCount === 0));
        mmCount++;
      },
    });
    if (header === null) return null;
    ok = true;
    const streamed = mmCount;
    return {
      write: async (out) => {
        const total = streamed + report.mms.length;
        await write(out, format.head(report, total));
        await spool.copyTo(out);
        let n = streamed;
        for (const m of report.mms) {
          await write(out, format.mm(m, report, n === 0));
          n++;
        }
        await write(out, format.tail(report, total));
      },
      dispose: () => spool.dispose(),
    };
  } finally {
    if (!ok) spool.dispose();
  }
}
