// Runs a session (live or replay) into the dashboard: full-screen ink UI on a TTY, one line per
// event/finding otherwise. Owns every exit path: q/Esc/Ctrl-C, SIGINT/SIGTERM, crashes.
import type { TraceConsumer } from '../src/trace/consumer.js';
import { DashboardStore, type StoreOptions } from './dashboard-store.js';
import { FleetLinePrinter } from './fleet-lines.js';
import type { FleetSink } from './fleet-sink.js';
import { FleetStore, selectFleetView } from './fleet-store.js';
import { installExitGuard } from './exit-guard.js';
import { LinePrinter } from './line-printer.js';
import { ThreadedLinePrinter } from './threaded-line-printer.js';
import type { ModelBinding } from './model-binding.js';
import { errorText, type SessionOptions } from './session.js';

export interface RunDashboardOptions<S> extends SessionOptions<TraceConsumer> {
  model: ModelBinding<S>;
  /**
   * Off a terminal, print from a thread of its own (ThreadedLinePrinter): for a source that
   * hands it encoded batches, i.e. a large trace file read by the worker reader. The source must
   * call its finish() when it ends.
   */
  threadedLinesFor?: string;
}

/** live --from: the source opens one consumer per recording; each host gets its own reducer. */
export interface RunFleetDashboardOptions<S> extends SessionOptions<FleetSink> {
  /** The per-host model (the line printer runs one per recording). */
  model: ModelBinding<S>;
}

/** Resolves with the process exit code. */
export async function runDashboard<S>(opts: RunDashboardOptions<S>): Promise<number> {
  const stdout = opts.stdout ?? process.stdout;
  const tty = opts.tty ?? stdout.isTTY === true;
  if (tty) return (await import('./full-screen.js')).runFullScreen(opts, stdout, new DashboardStore(opts.model, storeOptions(opts)), opts.model.view);
  const stderr = opts.stderr ?? process.stderr;
  const events = opts.printEvents ?? true;
  if (opts.threadedLinesFor !== undefined)
    return runLines(opts, stdout, new ThreadedLinePrinter(opts.model, { path: opts.threadedLinesFor, events, out: stdout }));
  return runLines(opts, stdout, new LinePrinter(opts.model, { out: stdout, err: stderr, events }));
}

/** Resolves with the process exit code. */
export async function runFleetDashboard<S>(opts: RunFleetDashboardOptions<S>): Promise<number> {
  const stdout = opts.stdout ?? process.stdout;
  const tty = opts.tty ?? stdout.isTTY === true;
  if (tty) return (await import('./full-screen.js')).runFullScreen(opts, stdout, new FleetStore(storeOptions(opts)), selectFleetView);
  const stderr = opts.stderr ?? process.stderr;
  return runLines(opts, stdout, new FleetLinePrinter(opts.model, { out: stdout, err: stderr, events: opts.printEvents ?? true }));
}

function storeOptions<C>(opts: SessionOptions<C>): StoreOptions {
  return {
    source: opts.source,
    speed: opts.speed ?? null,
    fps: 10,
    // Event ts is CLOCK_MONOTONIC, and so is hrtime on Linux: a live rate decays when idle.
    monotonicNowNs: opts.source === 'live' ? () => Number(process.hrtime.bigint()) : undefined,
  };
}

async function runLines<C>(opts: SessionOptions<C>, stdout: NodeJS.WriteStream, printer: C): Promise<number> {
  const stderr = opts.stderr ?? process.stderr;
  let stopped = false;
  // Like `record`: say on stderr when tracing starts, so a script (or a person) knows.
  const handle = opts.start(printer, {
    whenRunning: () => Promise.resolve(),
    stopped: () => stopped,
    markAttached: (info) => {
      if (info) stderr.write(`exetrace: attached ${info.probes} probes (${info.flavor} flavor)\n`);
    },
  });
  const guard = installExitGuard({
    restore: () => {},
    stop: async () => {
      stopped = true;
      await handle.stop();
    },
    kill: () => handle.kill?.(),
    ...opts.stopBudget,
  });
  try {
    await handle.done;
    return 0;
  } catch (err) {
    stderr.write(`exetrace: ${errorText(err)}\n`);
    return 1;
  } finally {
    await guard.close();
    guard.dispose();
  }
}
