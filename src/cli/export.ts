// `exetrace export FILE --perfetto OUT`: the trace as Chrome trace-event JSON for the Perfetto UI
// (ui.perfetto.dev, Open trace file) or chrome://tracing. OUT `-` writes to stdout.
import { createWriteStream, rmSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { exportPerfetto } from '../report/perfetto.js';
import { NO_PROGRESS, readProgress } from '../report/progress.js';
import { sanitize } from '../report/sanitize.js';

const EXAMPLES = `
Examples:
  exetrace export run.trace --perfetto run.json     # then open run.json at https://ui.perfetto.dev
  exetrace export run.trace --perfetto - | gzip > run.json.gz

A Perfetto process per process (a reused pid is a new one, labelled so), a track per mm it ran on:
the mm's life is a span, each exe_file epoch (exec, fork-inherit, prctl-replace, up to teardown)
a span inside it. Findings and /proc/PID/exe reads are instant events (click one: args hold the
explanation and evidence); lost-event gaps are global instants. Timestamps: CLOCK_MONOTONIC µs.
Exit status: 0 when exported (or when the reader of stdout went away), 1 when OUT cannot be written,
2 when FILE is not a readable exetrace trace or has a bad line (without --lenient).`;

interface ExportCliOptions {
  perfetto: string;
  lenient?: boolean;
}

export async function runExport(file: string, opts: ExportCliOptions, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const toStdout = opts.perfetto === '-';
  const out = toStdout ? process.stdout : createWriteStream(opts.perfetto);
  // The document goes out while the trace is read: on the same terminal as the bar, no bar.
  const progress = toStdout && process.stdout.isTTY ? NO_PROGRESS : readProgress([file], err);
  progress.file(0);
  try {
    const result = await exportPerfetto(file, out, {
      onIssue: (i) => err.write(`${sanitize(i.file)}:${i.line}: ${sanitize(i.cause)}\n`),
      onBatch: (state) => progress.update(state),
      lenient: opts.lenient === true,
    });
    progress.stop();
    if (!toStdout) {
      out.end();
      await finished(out);
    }
    if (result.header === null) {
      if (!toStdout) rmSync(opts.perfetto, { force: true });
      err.write(`exetrace export: ${sanitize(file)} is not a readable exetrace trace\n`);
      return 2;
    }
    if (result.badLine !== null) {
      err.write(
        `exetrace export: stopped at the bad line ${sanitize(file)}:${result.badLine.line} (OUT holds what came before it); --lenient skips bad lines and counts them\n`,
      );
      return 2;
    }
    return 0;
  } catch (e) {
    progress.stop();
    // The reader of stdout went away (| head): a normal end, as for any Unix filter.
    if (toStdout && (e as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    const cause = e instanceof Error ? e.message : String(e);
    err.write(`exetrace export: cannot write ${sanitize(opts.perfetto)}: ${sanitize(cause)}\n`);
    return 1;
  }
}

export function register(program: Command): void {
  program
    .command('export')
    .description('Export a recorded trace for a timeline viewer (Perfetto UI, chrome://tracing)')
    .argument('<file>', 'trace file written by `exetrace record`')
    .requiredOption('--perfetto <out>', 'write Chrome trace-event JSON to OUT (- for stdout)')
    .option('--lenient', 'skip bad lines (counted in otherData) instead of stopping at the first')
    .addHelpText('after', EXAMPLES)
    .action(async (file: string, opts: ExportCliOptions) => {
      process.exitCode = await runExport(file, opts);
    });
}
