// Runs a session (live or replay) into the dashboard: full-screen ink UI on a TTY, one line per
// event/finding otherwise. Owns every exit path: q/Esc/Ctrl-C, SIGINT/SIGTERM, crashes.
import './tty-wins-over-ci.js'; // before ink loads: it reads CI once, at load time
import { render, type Instance } from 'ink';
import type { TraceConsumer } from '../src/trace/consumer.js';
import { DashboardApp } from './components/DashboardApp.js';
import { DashboardStore, type StoreOptions } from './dashboard-store.js';
import type { ModelView } from './display-types.js';
import { FleetLinePrinter } from './fleet-lines.js';
import type { FleetSink } from './fleet-sink.js';
import { FleetStore, selectFleetView } from './fleet-store.js';
import { installExitGuard } from './exit-guard.js';
import { LinePrinter } from './line-printer.js';
import { ThreadedLinePrinter } from './threaded-line-printer.js';
import type { ModelBinding } from './model-binding.js';
import { enterFullScreen } from './terminal.js';

/** A running event source: replay of a file or a live bpftrace session. */
export interface SessionHandle {
  /** Settles when the source ends on its own (end of file, bpftrace exited). */
  done: Promise<void>;
  /** Stop the source (stops bpftrace); idempotent. */
  stop(): Promise<void>;
  /** Force the source down now (SIGKILL bpftrace) when stop() is too slow on a signal or crash. */
  kill?(): void;
}

/** What a source may consult while it runs: pause (replay waits) and quit; and what it reports. */
export interface SessionControl {
  whenRunning(): Promise<void>;
  stopped(): boolean;
  /** Live: the probes are attached (the header turns from STARTING to LIVE). */
  markAttached(info?: { probes: number; flavor: string }): void;
}

/** What every dashboard run needs, whatever feeds it (`C`: what the source is handed). */
interface SessionOptions<C> {
  source: 'live' | 'replay';
  /** Replay speed label for the header. */
  speed?: string | null;
  /** Start the source, feeding `consumer`. */
  start(consumer: C, control: SessionControl): SessionHandle;
  /** Non-TTY output: print every event (true) or findings only. */
  printEvents?: boolean;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  stderr?: NodeJS.WriteStream;
  /** Force the mode instead of looking at stdout.isTTY. */
  tty?: boolean;
  /**
   * On a signal or crash, how long the session's stop may take before it is killed, and before
   * exiting anyway. A live session drains the probes first (seconds when bpftrace is behind).
   */
  stopBudget?: { killAfterMs: number; stopTimeoutMs: number };
}

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

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Resolves with the process exit code. */
export async function runDashboard<S>(opts: RunDashboardOptions<S>): Promise<number> {
  const stdout = opts.stdout ?? process.stdout;
  const tty = opts.tty ?? stdout.isTTY === true;
  if (tty) return runFullScreen(opts, stdout, new DashboardStore(opts.model, storeOptions(opts)), opts.model.view);
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
  if (tty) return runFullScreen(opts, stdout, new FleetStore(storeOptions(opts)), selectFleetView);
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

async function runFullScreen<S, C>(
  opts: SessionOptions<C>,
  stdout: NodeJS.WriteStream,
  store: DashboardStore<S> & C,
  select: (state: S) => ModelView,
): Promise<number> {
  const stdin = opts.stdin ?? process.stdin;
  const stderr = opts.stderr ?? process.stderr;
  let quitting = false;
  let resolveQuit!: () => void;
  const quit = new Promise<void>((r) => (resolveQuit = r));
  let ink: Instance | null = null;
  let handle: SessionHandle | null = null;

  const screen = enterFullScreen(stdout, stdin);
  const guard = installExitGuard({
    restore: () => {
      try {
        ink?.unmount(); // ink leaves raw mode and shows the cursor; its last frame stays in the alternate screen
      } catch {
        // a crashed React tree may refuse to unmount; the screen restore below still runs
      }
      ink = null;
      screen.restore();
    },
    stop: async () => {
      quitting = true;
      await handle?.stop();
    },
    kill: () => handle?.kill?.(),
    ...opts.stopBudget,
    stderr,
  });

  let exitCode = 0;
  let failure: string | null = null;
  try {
    handle = opts.start(store, {
      whenRunning: () => store.whenRunning(),
      stopped: () => quitting,
      markAttached: () => store.markAttached(),
    });
    handle.done.catch((err: unknown) => {
      failure = errorText(err);
      exitCode = 1;
      store.markEnded(`failed: ${failure.split('\n')[0]}`);
      // Failed before anything arrived (not root, no bpftrace): no dashboard to look at.
      if (!store.started) resolveQuit();
    });
    ink = render(
      <DashboardApp
        store={store}
        select={select}
        interactive={stdin.isTTY === true}
        onQuit={() => {
          quitting = true;
          resolveQuit();
        }}
      />,
      { stdout, stdin, stderr, exitOnCtrlC: false, patchConsole: true, maxFps: 10 },
    );
    await quit;
  } finally {
    store.dispose();
    await guard.close();
    guard.dispose();
  }
  // Said again on the normal screen, where it stays readable after the dashboard is gone.
  if (failure !== null) stderr.write(`exetrace: ${failure}\n`);
  return exitCode;
}
