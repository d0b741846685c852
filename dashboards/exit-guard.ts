// One cleanup path for every way out: normal quit, SIGINT/SIGTERM/SIGHUP, an uncaught
// exception or unhandled rejection. Cleanup steps run in order (restore the terminal first so
// an error message is readable, then stop the session) and each runs at most once.

export interface ExitGuardOptions {
  /** Synchronous steps: restore the terminal. */
  restore: () => void;
  /** Stop the event source (bpftrace); awaited with a deadline. */
  stop: () => Promise<void>;
  /** How long stop() may take on a signal or crash before we exit anyway. */
  stopTimeoutMs?: number;
  /** Where crash reports go (after the terminal is restored). */
  stderr?: NodeJS.WritableStream;
}

export interface ExitGuard {
  /** Run cleanup for a normal end; resolves when the session has stopped. */
  close(): Promise<void>;
  /** Remove the process handlers (after close, for tests). */
  dispose(): void;
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export function installExitGuard(opts: ExitGuardOptions): ExitGuard {
  const stderr = opts.stderr ?? process.stderr;
  const timeout = opts.stopTimeoutMs ?? 3000;
  let restored = false;
  let stopping: Promise<void> | null = null;

  const restoreOnce = (): void => {
    if (restored) return;
    restored = true;
    try {
      opts.restore();
    } catch (err) {
      stderr.write(`exetrace: restoring the terminal failed: ${String(err)}\n`);
    }
  };
  const stopOnce = (): Promise<void> => {
    stopping ??= opts.stop().catch((err: unknown) => {
      stderr.write(`exetrace: stopping the session failed: ${String(err)}\n`);
    });
    return stopping;
  };
  const stopWithDeadline = (): Promise<void> =>
    Promise.race([stopOnce(), new Promise<void>((r) => setTimeout(r, timeout).unref())]);

  const die = (code: number): void => {
    void stopWithDeadline().finally(() => process.exit(code));
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    restoreOnce();
    die(SIGNAL_EXIT[signal] ?? 1);
  };
  const onCrash = (err: unknown): void => {
    restoreOnce();
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    stderr.write(`exetrace: crashed: ${text}\n`);
    die(1);
  };
  // Last resort: whatever path reached exit, the terminal must not stay in the alternate screen.
  const onExit = (): void => restoreOnce();

  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  process.on('exit', onExit);

  const dispose = (): void => {
    for (const s of signals) process.off(s, onSignal);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    process.off('exit', onExit);
  };
  return {
    async close() {
      restoreOnce();
      await stopOnce();
    },
    dispose,
  };
}
