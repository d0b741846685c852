// `exetrace analyze FILE…`: replay recorded traces through the model and report the findings,
// the per-class counts and every mm's lifecycle, as text, JSON, Markdown or HTML.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { sanitize } from '../report/sanitize.js';
import { prestartTraceReading } from '../trace/worker-reading.js';
import type { AnalyzeCliOptions } from './analyze-options.js';
import { onOutputClosed } from './closed-output.js';
import { addNatsSecurityOptions, type NatsCliOptions } from './fleet-options.js';
import { collectFile, isNatsAddress, parsePid } from './options.js';

const EXAMPLES = `
Examples:
  exetrace analyze run.trace                      # findings, counts and mm lifecycles as text
  exetrace analyze run.trace --format json        # machine-readable (docs/analyze-json.md)
  exetrace analyze run.trace --format markdown    # for a ticket or a review
  exetrace analyze run.trace --format html > r.html  # one self-contained page, SVG timeline
  exetrace analyze a.trace b.trace                # one report: a section per host and trace, then totals
  exetrace analyze run.trace -p 1234              # only mms pid 1234 used
  exetrace analyze run.trace -c java              # only mms whose comm is "java"
  exetrace analyze nats://central:4222            # every recording the fleet published, a report each
  exetrace analyze nats://central:4222/web1       # only host web1's
  exetrace analyze run.trace --exceptions mine.json   # also label findings these rules expect

Findings that an exception matches (docs/exceptions.md; the shipped list is
config/default-exceptions.json, off with --no-default-exceptions) are still reported, marked
expected, and counted apart.

FILE may be gzip (any name). A bad line is an error, FILE:LINE: CAUSE on stderr, and analysis of
that file stops there; with --lenient it is skipped and counted and analysis goes on. A trace
without its trailer line (recording cut short, kill -9, a partial copy) is analysed up to the cut
and flagged as truncated. On a terminal, stderr shows a progress bar (bytes read, events,
findings, ETA); stdout gets only the report.
Exit status: 0 when analysed, 2 when a FILE is not a readable exetrace trace or has a bad line
(without --lenient; the other files are still reported) or an exceptions file is bad; a reader that closes the pipe early
(| head) ends analysis quietly with 0.`;

function parseCommOption(value: string): string {
  // A comm is at most 15 bytes (TASK_COMM_LEN 16).
  if (value.length === 0 || Buffer.byteLength(value) > 15) throw new InvalidArgumentError('a comm is 1 to 15 bytes');
  return value;
}

export async function runAnalyze(
  files: string | readonly string[],
  opts: AnalyzeCliOptions & NatsCliOptions,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const list = typeof files === 'string' ? [files] : files;
  // The first file's reader starts while the model and the writers load (the others in turn).
  if (list[0] !== undefined && !isNatsAddress(list[0])) prestartTraceReading(list[0]);
  const [{ loadExceptions }, { analyzeFiles }, { readProgress }, { DOCUMENTS }] = await Promise.all([
    import('./exceptions-option.js'),
    import('../report/analyze-files.js'),
    import('../report/progress.js'),
    import('./analyze-options.js'),
  ]);
  let exceptions;
  try {
    exceptions = loadExceptions(opts);
  } catch (e) {
    err.write(`exetrace analyze: ${sanitize((e as Error).message)}\n`);
    return 2;
  }
  const nats = list.filter(isNatsAddress);
  if (nats.length > 0) {
    if (list.length > 1) {
      err.write('exetrace analyze: a nats:// address is analysed on its own, not together with other traces\n');
      return 2;
    }
    return (await import('./analyze-fleet.js')).runAnalyzeFleet(nats[0]!, opts, exceptions, out, err);
  }
  const progress = readProgress(list, err, out);
  try {
    return await analyzeFiles(
      list,
      DOCUMENTS[opts.format],
      {
        filters: { pid: opts.pid ?? null, comm: opts.comm ?? null },
        progress,
        lenient: opts.lenient === true,
        registerCleanup: onOutputClosed,
        model: { exceptions },
      },
      out,
      err,
    );
  } finally {
    progress.stop();
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('analyze')
    .description('Analyse a recorded trace: where /proc/PID/exe pointed, why, and every mismatch with the VMA walk')
    .argument('<files...>', 'trace files written by `exetrace record` (several: one report, a section each, then totals), or one nats://HOST:PORT[/HOSTNAME]')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'markdown', 'html']).default('text'))
    .option('-p, --pid <pid>', 'only mms this pid used', parsePid)
    .option('-c, --comm <comm>', 'only mms with this comm', parseCommOption)
    .option('--lenient', 'skip bad lines (counted in the report) instead of stopping at the first')
    .option('--exceptions <file>', 'exception rules that label findings expected (repeatable; docs/exceptions.md)', collectFile)
    .option('--no-default-exceptions', 'do not apply the shipped list (config/default-exceptions.json)')
    .addHelpText('after', EXAMPLES);
  addNatsSecurityOptions(cmd).action(async (files: string[], opts: AnalyzeCliOptions & NatsCliOptions) => {
    process.exitCode = await runAnalyze(files, opts);
  });
}
