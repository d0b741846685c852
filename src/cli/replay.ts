// `exetrace replay FILE`: drive the dashboard (or the line printer, off a TTY) from a recorded
// trace, at N× the recorded pace or as fast as possible.
import type { Command } from 'commander';
import type { ReplayControl } from '../../dashboards/replay-driver.js';
import { parseSpeed, type ReplaySpeed } from '../../dashboards/replay-speed.js';
import { sanitizeForDisplay } from '../../dashboards/sanitize-display.js';
import type { TraceConsumer } from '../trace/consumer.js';
import type { ReplayOptions as TraceReplayOptions, TraceRecord } from '../trace/trace-reader.js';
import { prestartTraceReading, suitsWorker } from '../trace/worker-reading.js';
import type { ExceptionsCliOptions } from './exceptions-option.js';
import { collectFile } from './options.js';

interface ReplayOptions extends ExceptionsCliOptions {
  speed: ReplaySpeed;
  findingsOnly?: boolean;
}

/** Read the first record now, so a missing or foreign file fails before the screen changes. */
async function openTrace(path: string): Promise<{ first: TraceRecord; records: AsyncIterable<TraceRecord>; close: () => Promise<void> }> {
  const { readTrace } = await import('../trace/trace-reader.js');
  // A peek only (at max speed the file is read again): no worker thread reading ahead for nothing.
  const it = readTrace(path, { worker: false })[Symbol.asyncIterator]();
  const head = await it.next();
  if (head.done) throw new Error(`${path}: empty trace`);
  const first = head.value;
  async function* all(): AsyncGenerator<TraceRecord> {
    yield first;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { first, records: all(), close: async () => void (await it.return(undefined)) };
}

/** At max speed, yield to the event loop (keys, redraws, pause) this often. */
const YIELD_EVERY = 256;

/**
 * --speed max: read the file in chunks (replayTrace's own reader) and touch the event loop only
 * every YIELD_EVERY events. Pause can only change while we yield, so checking it there is
 * exactly as prompt as checking before every event.
 */
async function replayAtMaxSpeed(
  file: string,
  consumer: TraceConsumer,
  control: ReplayControl,
  onEncodedBatch?: TraceReplayOptions['onEncodedBatch'],
): Promise<unknown> {
  const yieldThenRun = async (): Promise<void> => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await control.whenRunning();
  };
  const { replayTrace } = await import('../trace/trace-reader.js');
  return replayTrace(file, consumer, {
    stopped: () => control.stopped(),
    beforeEvent: (_event, index) => (index % YIELD_EVERY === 0 ? yieldThenRun() : undefined),
    onEncodedBatch,
  });
}

export async function replayCommand(file: string, opts: ReplayOptions): Promise<number> {
  // As fast as it goes, the file's reader starts while the model and the printer load.
  if (opts.speed === 'max') prestartTraceReading(file);
  const { first, records, close } = await openTrace(file);
  if (first.type === 'error') {
    process.stderr.write(`exetrace: ${sanitizeForDisplay(file)}:${first.line}: ${sanitizeForDisplay(first.cause)}\n`);
    await close();
    return 1;
  }
  const speedLabel = opts.speed === 'max' ? 'max' : `${opts.speed}x`;
  // Loaded on use: other commands and --help do not pay for the UI (ink, React).
  let exceptions;
  try {
    exceptions = (await import('./exceptions-option.js')).loadExceptions(opts);
  } catch (err) {
    process.stderr.write(`exetrace: ${sanitizeForDisplay((err as Error).message)}\n`);
    await close();
    return 1;
  }
  const [{ runDashboard }, { exetraceModelWith }, { ThreadedLinePrinter }, { driveReplay }] = await Promise.all([
    import('../../dashboards/run-dashboard.js'),
    import('../../dashboards/exetrace-model.js'),
    import('../../dashboards/threaded-line-printer.js'),
    import('../../dashboards/replay-driver.js'),
  ]);
  const printEvents = opts.findingsOnly !== true;
  // A line per event of a large file, off a terminal, as fast as it goes: formatted on a thread of
  // its own while the worker reader parses and this thread runs the model.
  const threaded = opts.speed === 'max' && printEvents && process.stdout.isTTY !== true && suitsWorker(file);
  // Off a terminal the line printer batches its writes itself (dashboards/line-printer.ts).
  return runDashboard({
    model: exetraceModelWith({ exceptions }),
    source: 'replay',
    speed: speedLabel,
    printEvents,
    threadedLinesFor: threaded ? file : undefined,
    start(consumer, control) {
      let done: Promise<void>;
      if (opts.speed === 'max') {
        const printer = consumer instanceof ThreadedLinePrinter ? consumer : null;
        // The file is read again from the start, in chunks; the peeked reader is closed.
        done = close()
          .then(() => replayAtMaxSpeed(file, consumer, control, printer?.onEncodedBatch))
          .finally(() => printer?.finish())
          .then(() => undefined);
      } else {
        done = driveReplay(records, file, consumer, opts.speed, control).then(() => undefined);
      }
      // Stopping a replay is just not reading on: the drivers check control.stopped().
      return { done, stop: async () => {} };
    },
  });
}

export function register(program: Command): void {
  program
    .command('replay')
    .description('Replay a recorded trace into the dashboard (one line per event when stdout is not a terminal)')
    .argument('<file>', 'trace file written by `exetrace record` or `exetrace live --record`')
    .option('--speed <N|max>', 'N× the recorded pace, or "max" for as fast as possible', parseSpeed, 1 as ReplaySpeed)
    .option('--findings-only', 'off a terminal, print findings only instead of every event')
    .option('--exceptions <file>', 'exception rules that label findings expected (repeatable; docs/exceptions.md)', collectFile)
    .option('--no-default-exceptions', 'do not apply the shipped list (config/default-exceptions.json)')
    .addHelpText(
      'after',
      `
Keys: j/k or arrows move, Enter details, Esc back, s sort, f filter, p pause, q quit, Ctrl-C quits.

Examples:
  exetrace replay samples/lab.trace.jsonl              # replay at the recorded pace
  exetrace replay trace.jsonl --speed 10               # ten times faster
  exetrace replay trace.jsonl --speed max | grep FINDING   # every finding, one line each`,
    )
    .action(async (file: string, opts: ReplayOptions) => {
      const code = await replayCommand(file, opts);
      process.exitCode = code;
    });
}
