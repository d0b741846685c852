// `exetrace record`: headless recording to a trace file, with a summary at the end.
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { FlavorRequest } from '../trace/flavor-ladder.js';
import type { RecordResult } from '../trace/recorder.js';
import { sanitizeForDisplay } from '../../dashboards/sanitize-display.js';
import { startFleetConsumers, type FleetConsumers } from './fleet-consumers.js';
import { addPublishOptions, type PublishCliOptions } from './fleet-options.js';
import type { ExceptionRule } from '../model/index.js';
import { loadExceptions, type ExceptionsCliOptions } from './exceptions-option.js';
import { collectFile, parsePid } from './options.js';

/** Kernel strings and paths are hostile; multi-line text is sanitised line by line. */
const sanitizeForTerminal = (s: string, o: { keepNewlines?: boolean } = {}): string =>
  o.keepNewlines ? s.split('\n').map(sanitizeForDisplay).join('\n') : sanitizeForDisplay(s);

const EXAMPLES = `
Examples:
  exetrace record --out run.trace                 # record until Ctrl-C
  exetrace record --out run.trace --duration 10   # record for 10 seconds
  exetrace record --out run.jsonl.gz              # gzip, still readable after a kill -9
  exetrace record --out run.trace -p 1234         # only the process 1234
  exetrace record --out run.trace -c nginx        # only processes whose comm is "nginx"
  exetrace record --out run.trace --flavor tracepoint
                                                  # skip the flavor ladder
  exetrace record --out run.trace --publish nats://central:4222 --metrics 0.0.0.0:9464
                                                  # also stream to the fleet, serve /metrics
  exetrace analyze run.trace                      # then explain what was recorded

Exit status: 0 when recording ended by --duration or Ctrl-C/SIGTERM (the trace is complete),
1 on any error (not root, bpftrace missing or failing, probes not attaching, write errors);
a trace cut short by bpftrace dying still holds every event up to that point.`;

export function parseDuration(value: string): number {
  if (!/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(value) || !(Number(value) > 0)) {
    throw new InvalidArgumentError('the duration is a positive number of seconds');
  }
  return Number(value);
}

/** The findings summary (sanitised by summarizeTrace); a model failure never fails a finished recording. */
async function modelSummary(tracePath: string, exceptions: ExceptionRule[]): Promise<string> {
  try {
    // Loaded at the end: the model and the report are not on the way to the first event.
    const { summarizeTrace } = await import('../report/summary.js');
    return await summarizeTrace(tracePath, { exceptions });
  } catch (err) {
    return `findings: unavailable (${sanitizeForTerminal((err as Error).message)})`;
  }
}

export function formatSummary(r: RecordResult): string {
  const lines: string[] = [];
  const total = Object.values(r.counts).reduce((a, b) => a + (b ?? 0), 0);
  lines.push(`events: ${total}`);
  for (const [kind, n] of Object.entries(r.counts).sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${kind.padEnd(14)} ${n}`);
  lines.push(`lost events: ${r.lostEvents}${r.lostEvents > 0 ? " (counted from the probes' sequence numbers; findings across a gap are uncertain)" : ''}`);
  const t = r.trailer;
  if (t && (t.bpftraceLostRecords ?? 0) > 0) lines.push(`  bpftrace's own count: ${t.bpftraceLostRecords} output records lost`);
  if (t && (t.incompleteEvents ?? 0) > 0) lines.push(`  events missing some of their strings: ${t.incompleteEvents}`);
  if (t?.drain && !t.drain.complete)
    lines.push(`  stop drain incomplete: ${t.drain.answeredCpus} of ${t.drain.cpus} CPUs confirmed; events still in the others' buffers may be missing`);
  lines.push(`parse issues: ${r.trailer?.parseIssues ?? r.parseIssues.length}`);
  for (const i of r.parseIssues.slice(0, 5)) lines.push(`  ${sanitizeForTerminal(`${i.source}:${i.line}: ${i.cause}`)}`);
  lines.push(
    `snapshots: ${r.snapshots.startup} at startup, ${r.snapshots.taken} during the run, ${r.snapshots.skipped} skipped by the rate limit, ${r.snapshots.vanished} of processes already gone`,
  );
  if (r.lateEvents > 0) lines.push(`late events (from a CPU that went offline, kept out of order): ${r.lateEvents}`);
  return lines.join('\n');
}

type RecordCliOptions = { out: string; duration?: number; flavor: FlavorRequest; pid?: number; comm?: string; quiet?: boolean } & PublishCliOptions &
  ExceptionsCliOptions & {
    metrics?: { host: string; port: number };
  };

export function register(program: Command): void {
  const cmd = program
    .command('record')
    .description('Record exe_file lifecycle events to a trace file (needs root).')
    .requiredOption('-o, --out <file>', 'trace file to write (created with mode 0600; gzip when it ends in .gz)')
    .option('-d, --duration <seconds>', 'stop after this many seconds', parseDuration)
    .addOption(new Option('--flavor <flavor>', 'probe flavor').choices(['auto', 'tracepoint', 'kprobe', 'kfunc']).default('auto'))
    .option('-p, --pid <pid>', 'trace only this process (thread group id)', parsePid)
    .option('-c, --comm <comm>', 'trace only processes with this comm (at most 15 bytes)')
    .option('-q, --quiet', 'no summary at the end')
    .option('--exceptions <file>', 'exception rules that label findings expected in the summary (repeatable; docs/exceptions.md)', collectFile)
    .option('--no-default-exceptions', 'do not apply the shipped list (config/default-exceptions.json)')
    .addHelpText('after', EXAMPLES);
  addPublishOptions(cmd).action(async (opts: RecordCliOptions) => {
    process.exitCode = await runRecord(opts);
  });
}

async function runRecord(opts: RecordCliOptions): Promise<number> {
  // A bad exceptions file fails before recording, not after it.
  let exceptions: ExceptionRule[];
  try {
    exceptions = loadExceptions(opts);
  } catch (err) {
    process.stderr.write(`exetrace: ${sanitizeForTerminal((err as Error).message)}\n`);
    return 2;
  }
  // Loaded on use: --help and the other commands do not pay for (or depend on) the pipeline.
  const { Recorder } = await import('../trace/recorder.js');
  const say = (line: string): void => void process.stderr.write(`exetrace: ${sanitizeForTerminal(line)}\n`);
  let fleet: FleetConsumers;
  try {
    fleet = await startFleetConsumers(opts, say, { exceptions });
  } catch (err) {
    say((err as Error).message);
    return 1;
  }
  const recorder = new Recorder({
    hostname: opts.hostname,
    consumers: fleet.consumers,
    out: opts.out,
    flavor: opts.flavor,
    pid: opts.pid ?? null,
    comm: opts.comm ?? null,
    durationMs: opts.duration !== undefined ? Math.round(opts.duration * 1000) : null,
    onAttached: ({ probes, flavor }) => {
      fleet.attached();
      process.stderr.write(
        `exetrace: attached ${probes} probes (${flavor} flavor), recording to ${sanitizeForTerminal(opts.out)}. ` +
          `${opts.duration !== undefined ? `Stopping after ${opts.duration} s or at Ctrl-C.` : 'Hit Ctrl-C to end.'}\n`,
      );
    },
  });
  // Ctrl-C and SIGTERM end the recording cleanly: bpftrace stopped, trace flushed, trailer written.
  const onSignal = (): void => recorder.stop('signal');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result: RecordResult;
  try {
    result = await recorder.run();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  for (const line of await fleet.finish()) say(line);
  if (result.error) {
    process.stderr.write(`exetrace: ${sanitizeForTerminal(result.error.shortMessage)}\n`);
    if (result.error.cause !== result.error.shortMessage) {
      process.stderr.write(`${sanitizeForTerminal(result.error.cause, { keepNewlines: true }).replace(/^/gm, '  ')}\n`);
    }
    if (result.error.writeFailed) {
      process.stderr.write(`exetrace: the trace ${sanitizeForTerminal(opts.out)} ends at the write failure; what was written before it is readable\n`);
    } else if (result.trailer) {
      process.stderr.write(`exetrace: the trace ${sanitizeForTerminal(opts.out)} keeps the ${result.trailer.events} events recorded before the error\n`);
    }
  }
  if (!opts.quiet && result.trailer) {
    process.stdout.write(`${formatSummary(result)}\n`);
    process.stdout.write(`${await modelSummary(opts.out, exceptions)}\n`);
  }
  return result.exitCode;
}
