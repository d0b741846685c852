// The dashboard's model holder: a TraceConsumer that feeds every event through the shared
// reducer and publishes throttled snapshots to the UI. Live and replay both drive it.
import type { ParseIssue, TraceConsumer } from '../src/trace/consumer.js';
import type { TraceEvent } from '../src/trace/events.js';
import type { TraceHeader, TraceTrailer } from '../src/trace/trace-format.js';
import type { SessionStats } from './display-types.js';
import { EventRate } from './event-rate.js';
import { throttle, type Throttled, type TimerApi } from './throttle.js';

/** The reducer pair from src/model, passed in so this file stays independent of its state shape. */
export interface ModelEngine<S> {
  initialState(): S;
  reduce(state: S, event: TraceEvent): S;
}

export interface DashboardSnapshot<S> {
  state: S;
  stats: SessionStats;
}

export interface StoreOptions {
  source: 'live' | 'replay';
  /** Replay speed label, e.g. "max" or "10x"; null for live. */
  speed?: string | null;
  /** Redraws per second at most. */
  fps?: number;
  /** "Now" on CLOCK_MONOTONIC in ns for the rate; defaults to the newest event's ts (replay). */
  monotonicNowNs?: () => number;
  timers?: TimerApi;
}

export class DashboardStore<S> implements TraceConsumer {
  private state: S;
  private stats: SessionStats;
  private snapshot: DashboardSnapshot<S>;
  private readonly listeners = new Set<() => void>();
  private readonly rate = new EventRate();
  private lastTs = 0;
  private readonly publishThrottled: Throttled;
  private readonly monotonicNowNs: (() => number) | undefined;
  private resumeWaiters: Array<() => void> = [];

  constructor(
    private readonly engine: ModelEngine<S>,
    opts: StoreOptions,
  ) {
    this.state = engine.initialState();
    this.monotonicNowNs = opts.monotonicNowNs;
    this.stats = {
      source: opts.source,
      flavor: '?',
      kernel: '?',
      eventRate: 0,
      events: 0,
      lostEvents: 0,
      parseIssues: 0,
      paused: false,
      speed: opts.speed ?? null,
      attached: false,
      ended: null,
      clockRef: null,
    };
    this.snapshot = { state: this.state, stats: { ...this.stats } };
    this.publishThrottled = throttle(() => this.publish(), 1000 / (opts.fps ?? 10), opts.timers);
  }

  onHeader(header: TraceHeader): void {
    this.stats.flavor = header.flavor;
    this.stats.kernel = header.kernelRelease;
    this.stats.clockRef = header.clockRef;
    this.publishThrottled();
  }

  onEvent(event: TraceEvent): void {
    this.state = this.engine.reduce(this.state, event);
    this.stats.events++;
    if (event.kind === 'gap') this.stats.lostEvents += event.lost;
    this.rate.add(event.ts);
    if (event.ts > this.lastTs) this.lastTs = event.ts;
    this.publishThrottled();
  }

  onIssue(_issue: ParseIssue): void {
    this.stats.parseIssues++;
    this.publishThrottled();
  }

  onEnd(trailer: TraceTrailer): void {
    const why = trailer.error !== null ? `${trailer.reason}: ${trailer.error}` : trailer.reason;
    // A replay's trailer tells how the *recording* ended; a live one how this session did.
    this.markEnded(this.stats.source === 'replay' ? `end of trace (recording ended by ${why})` : `ended (${why})`);
  }

  /** Live: the probes are attached, from now on every exec is seen. */
  markAttached(): void {
    this.stats.attached = true;
    this.publishNow();
  }

  markEnded(why: string): void {
    this.stats.ended = why;
    this.publishNow();
  }

  /** True once the source delivered its header: there is something to look at. */
  get started(): boolean {
    return this.stats.clockRef !== null;
  }

  get paused(): boolean {
    return this.stats.paused;
  }

  /** Pause freezes the picture; a live source keeps feeding the model underneath. */
  setPaused(paused: boolean): void {
    this.stats.paused = paused;
    if (!paused) {
      const waiters = this.resumeWaiters;
      this.resumeWaiters = [];
      for (const w of waiters) w();
    }
    this.publishNow(true);
  }

  togglePause(): void {
    this.setPaused(!this.stats.paused);
  }

  /** Resolves at once when running, else on resume: replay awaits this between events. */
  whenRunning(): Promise<void> {
    if (!this.stats.paused) return Promise.resolve();
    return new Promise((resolve) => this.resumeWaiters.push(resolve));
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): DashboardSnapshot<S> => this.snapshot;

  /** The newest state, ignoring pause and throttling (for the non-TTY printer and tests). */
  get currentState(): S {
    return this.state;
  }

  /** Publish whatever is pending (used on exit so the last frame is complete). */
  flush(): void {
    this.publishThrottled.flush();
  }

  dispose(): void {
    this.publishThrottled.cancel();
    this.listeners.clear();
  }

  private publishNow(forceStats = false): void {
    this.publishThrottled.cancel();
    this.publish(forceStats);
  }

  private publish(forceStats = false): void {
    const now = this.monotonicNowNs ? this.monotonicNowNs() : this.lastTs;
    this.stats.eventRate = this.rate.rateAt(now);
    if (this.stats.paused && !forceStats) return; // frozen picture
    // While paused the model view stays frozen; the header still shows that we are paused.
    const state = this.stats.paused ? this.snapshot.state : this.state;
    this.snapshot = { state, stats: { ...this.stats } };
    for (const l of this.listeners) l();
  }
}
