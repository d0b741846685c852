// `exetrace analyze FILE`: replay a recorded trace through the model and report the findings,
// the per-class counts and every mm's lifecycle, as text, JSON or Markdown.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { analyzeTrace } from '../report/analyze-trace.js';
import { sanitize } from '../report/sanitize.js';
import { prepareSection, type AnalyzeCliOptions } from './analyze-section.js';
import { addNatsSecurityOptions } from './fleet-options.js';
import { isNatsAddress, parsePid } from './options.js';

const EXAMPLES = `
Examples:
  exetrace analyze run.trace                      # findings, counts and mm lifecycles as text
  exetrace analyze run.trace --format json        # machine-readable (docs/analyze-json.md)
  exetrace analyze run.trace --format markdown    # for a ticket or a review
  exetrace analyze run.trace -p 1234              # only mms pid 1234 used
  exetrace analyze run.trace -c java              # only mms whose comm is "java"
  exetrace analyze nats://central:4222            # every recording the fleet published
  exetrace analyze nats://central:4222/web1       # only host web1's

Bad lines are reported on stderr as FILE:LINE: CAUSE and analysis goes on; a trace without
its trailer line (recording cut short) is analysed up to the cut and flagged as truncated.
Exit status: 0 when analysed, 2 when FILE is not a readable exetrace trace.`;

function parseCommOption(value: string): string {
  // A comm is at most 15 bytes (TASK_COMM_LEN 16).
  if (value.length === 0 || Buffer.byteLength(value) > 15) throw new InvalidArgumentError('a comm is 1 to 15 bytes');
  return value;
}

export async function runAnalyze(
  file: string,
  opts: AnalyzeCliOptions,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  if (isNatsAddress(file)) return (await import('./analyze-fleet.js')).runAnalyzeFleet(file, opts, out, err);
  const section = await prepareSection((o) => analyzeTrace(file, o), opts, err);
  try {
    if (section === null) {
      err.write(`exetrace analyze: ${sanitize(file)} is not a readable exetrace trace\n`);
      return 2;
    }
    await section.write(out);
    return 0;
  } finally {
    section?.dispose();
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('analyze')
    .description('Analyse a recorded trace: where /proc/PID/exe pointed, why, and every mismatch with the VMA walk')
    .argument('<file>', 'trace file written by `exetrace record`, or nats://HOST:PORT[/HOSTNAME] for what the fleet published')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'markdown']).default('text'))
    .option('-p, --pid <pid>', 'only mms this pid used', parsePid)
    .option('-c, --comm <comm>', 'only mms with this comm', parseCommOption)
    .addHelpText('after', EXAMPLES);
  addNatsSecurityOptions(cmd).action(async (file: string, opts: AnalyzeCliOptions) => {
    process.exitCode = await runAnalyze(file, opts);
  });
}
