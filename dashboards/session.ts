// What a dashboard run and its event source hand each other: the source's handle, the controls
// it may consult, and the options every run takes (full screen or lines).

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
export interface SessionOptions<C> {
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

/** An error's message, for one line on stderr. */
export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
