// Events from different CPUs reach userspace out of order (bpftrace drains one perf buffer
// per CPU). This window holds events up to `windowNs` of kernel time behind the newest seen,
// and releases them sorted by ts; equal ts keep arrival order. An event older than what was
// already released cannot be put back in order: it is released at once and counted as late.
import type { TraceEvent } from './events.js';

// Measured here with the tracepoint probes: events reach the decoder up to ~125 ms behind the
// newest one from another CPU (bpftrace polls the per-CPU buffers), so 100 ms was too short.
export const DEFAULT_REORDER_WINDOW_NS = 300_000_000;

export class ReorderWindow {
  private readonly held: TraceEvent[] = [];
  private newest = -Infinity;
  private lastReleased = -Infinity;
  /** Events that arrived behind an already released ts. */
  late = 0;

  constructor(
    private readonly emit: (event: TraceEvent) => void,
    private readonly windowNs = DEFAULT_REORDER_WINDOW_NS,
  ) {}

  get size(): number {
    return this.held.length;
  }

  /**
   * `advancesClock` false is for events stamped by userspace "now" (the recorder's /proc
   * snapshots): they are ahead of kernel events still in bpftrace's buffers, so letting them
   * move the window would release those buffers' events too early and make them late.
   */
  push(event: TraceEvent, advancesClock = true): void {
    if (event.ts < this.lastReleased) {
      this.late++;
      this.emit(event);
      return;
    }
    this.insert(event);
    if (advancesClock && event.ts > this.newest) this.newest = event.ts;
    this.releaseUpTo(this.newest - this.windowNs);
  }

  /**
   * Release what is older than `nowNs - windowNs` (CLOCK_MONOTONIC), so a quiet host does not
   * hold its last events forever. Call it from a timer.
   */
  tick(nowNs: number): void {
    this.releaseUpTo(nowNs - this.windowNs);
  }

  /** Release everything (end of stream). */
  flush(): void {
    this.releaseUpTo(Infinity);
  }

  private insert(event: TraceEvent): void {
    // Mostly in order: scan back from the end (after equal ts, to stay stable).
    let i = this.held.length;
    while (i > 0 && this.held[i - 1]!.ts > event.ts) i--;
    this.held.splice(i, 0, event);
  }

  private releaseUpTo(limit: number): void {
    let n = 0;
    while (n < this.held.length && this.held[n]!.ts <= limit) n++;
    if (n === 0) return;
    const out = this.held.splice(0, n);
    for (const e of out) {
      this.lastReleased = e.ts;
      this.emit(e);
    }
  }
}
