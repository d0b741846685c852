// `exetrace analyze FILE`: replay a recorded trace through the model and report the findings,
// the per-class counts and every mm's lifecycle, as text, JSON or Markdown.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { analyzeTrace } from '../report/analyze-trace.js';
import { jsonFormat } from '../report/json.js';
import { markdownFormat } from '../report/markdown.js';
import { sanitize } from '../report/sanitize.js';
import { Spool } from '../report/spool.js';
import { textFormat, type ReportFormat } from '../report/text.js';
import { collectFile, loadExceptions, type ExceptionsCliOptions } from './exceptions-option.js';
import { parsePid } from './options.js';

const EXAMPLES = `
Examples:
  exetrace analyze run.trace                      # findings, counts and mm lifecycles as text
  exetrace analyze run.trace --format json        # machine-readable (docs/analyze-json.md)
  exetrace analyze run.trace --format markdown    # for a ticket or a review
  exetrace analyze run.trace -p 1234              # only mms pid 1234 used
  exetrace analyze run.trace -c java              # only mms whose comm is "java"
  exetrace analyze run.trace --exceptions mine.json   # also label findings these rules expect

Findings that an exception matches (docs/exceptions.md; the shipped list is
config/default-exceptions.json, off with --no-default-exceptions) are still reported, marked
expected, and counted apart.

Bad lines are reported on stderr as FILE:LINE: CAUSE and analysis goes on; a trace without
its trailer line (recording cut short) is analysed up to the cut and flagged as truncated.
Exit status: 0 when analysed, 2 when FILE is not a readable exetrace trace or an exceptions file is bad.`;

function parseCommOption(value: string): string {
  // A comm is at most 15 bytes (TASK_COMM_LEN 16).
  if (value.length === 0 || Buffer.byteLength(value) > 15) throw new InvalidArgumentError('a comm is 1 to 15 bytes');
  return value;
}

interface AnalyzeCliOptions extends ExceptionsCliOptions {
  format: 'text' | 'json' | 'markdown';
  pid?: number;
  comm?: string;
}

const FORMATS: Record<AnalyzeCliOptions['format'], ReportFormat> = { text: textFormat, json: jsonFormat, markdown: markdownFormat };

/** Write and wait for the stream to take it (a pipe to `less` must not buffer the whole report). */
async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (text.length > 0 && !out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
}

export async function runAnalyze(
  file: string,
  opts: AnalyzeCliOptions,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const format = FORMATS[opts.format];
  let exceptions;
  try {
    exceptions = loadExceptions(opts);
  } catch (e) {
    err.write(`exetrace analyze: ${sanitize((e as Error).message)}\n`);
    return 2;
  }
  // Each ended mm is rendered as it ends and parked on disk: the report's head (counts,
  // findings) is only known at the end, and nothing per mm may stay in memory.
  const spool = new Spool();
  try {
    let mmCount = 0;
    const { report, header } = await analyzeTrace(file, {
      filters: { pid: opts.pid ?? null, comm: opts.comm ?? null },
      model: { exceptions },
      onIssue: (i) => err.write(`${sanitize(i.file)}:${i.line}: ${sanitize(i.cause)}\n`),
      onEndedMm: (m, h) => {
        spool.write(format.mm(m, { trace: { header: h } }, mmCount === 0));
        mmCount++;
      },
    });
    if (header === null) {
      err.write(`exetrace analyze: ${sanitize(file)} is not a readable exetrace trace\n`);
      return 2;
    }
    const total = mmCount + report.mms.length;
    await write(out, format.head(report, total));
    await spool.copyTo(out);
    for (const m of report.mms) {
      await write(out, format.mm(m, report, mmCount === 0));
      mmCount++;
    }
    await write(out, format.tail(report, total));
    return 0;
  } finally {
    spool.dispose();
  }
}

export function register(program: Command): void {
  program
    .command('analyze')
    .description('Analyse a recorded trace: where /proc/PID/exe pointed, why, and every mismatch with the VMA walk')
    .argument('<file>', 'trace file written by `exetrace record`')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'markdown']).default('text'))
    .option('-p, --pid <pid>', 'only mms this pid used', parsePid)
    .option('-c, --comm <comm>', 'only mms with this comm', parseCommOption)
    .option('--exceptions <file>', 'exception rules that label findings expected (repeatable; docs/exceptions.md)', collectFile)
    .option('--no-default-exceptions', 'do not apply the shipped list (config/default-exceptions.json)')
    .addHelpText('after', EXAMPLES)
    .action(async (file: string, opts: AnalyzeCliOptions) => {
      process.exitCode = await runAnalyze(file, opts);
    });
}
