// One cleanup path for every way out: normal quit, SIGINT/SIGTERM/SIGHUP, an uncaught
// exception or unhandled rejection. Cleanup steps run in order (restore the terminal first so
// an error message is readable, then stop the session) and each runs at most once. On a signal
// or crash the stop is forced (kill) if slow, and bounded: then the process exits non-zero.

export interface ExitGuardOptions {
  /** Synchronous steps: restore the terminal. */
  restore: () => void;
  /** Stop the event source (bpftrace); awaited with a deadline. */
  stop: () => Promise<void>;
  /** Force the source down (SIGKILL bpftrace) when stop() is slow on a signal or crash. */
  kill?: () => void;
  /** On a signal or crash: how long stop() may take before kill() is called. */
  killAfterMs?: number;
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
  const killAfter = opts.killAfterMs ?? 1500;
  // Above killAfter: after SIGKILL the kernel still detaches every probe before bpftrace is gone.
  const timeout = opts.stopTimeoutMs ?? 5000;
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
  // Not relying on bpftrace's pdeathsig: it fires only once we are gone, and a killed
  // bpftrace can take seconds to detach; we wait for it (bounded) before exiting.
  const stopWithDeadline = (): Promise<void> => {
    const killTimer = setTimeout(() => {
      try {
        opts.kill?.();
      } catch (err) {
        stderr.write(`exetrace: killing the session failed: ${String(err)}\n`);
      }
    }, killAfter);
    let deadline: NodeJS.Timeout | undefined;
    const giveUp = new Promise<void>((r) => (deadline = setTimeout(r, timeout)));
    return Promise.race([stopOnce(), giveUp]).finally(() => {
      clearTimeout(killTimer);
      clearTimeout(deadline);
    });
  };

  let dying = false;
  const die = (code: number): void => {
    if (dying) return; // the first cause decides the exit code
    dying = true;
    void stopWithDeadline().finally(() => process.exit(code));
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    restoreOnce();
    die(SIGNAL_EXIT[signal] ?? 1);
  };
  let crashed = false;
  const onCrash = (err: unknown): void => {
    restoreOnce();
    // Report once: on a hung-up terminal (SIGHUP) the report itself fails with EIO, which
    // comes back here; re-reporting would loop on the tick queue and starve the exit timers.
    if (crashed) return;
    crashed = true;
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    try {
      stderr.write(`exetrace: crashed: ${text}\n`);
    } catch {
      // nowhere left to report it
    }
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
