// Events from different CPUs reach userspace out of order (bpftrace drains one perf ring per
// CPU), but each CPU's ring is FIFO and its timestamps only grow (its probe runs never
// interleave). So an event may go out once every CPU has been read past its ts: each CPU's
// watermark is the newest ts read from it (an event or the probes' periodic "S tick"), and
// events are released in ts order up to the lowest watermark. Exact, with no time window to
// guess. bpftrace can read one ring seconds behind another under load (measured: 6.6 s), so
// only a CPU that is also offline stops holding the rest back once `staleNs` behind; anything
// it still delivers behind what went out is released at once and counted as late.
import type { TraceEvent } from './events.js';

/** A CPU this far behind the newest watermark no longer holds the others (kernel time). */
export const DEFAULT_STALE_NS = 5_000_000_000;

interface Node {
  ts: number;
  order: number;
  event: TraceEvent;
}

export class CpuOrderMerge {
  /** A binary min-heap by (ts, arrival). */
  private readonly heap: Node[] = [];
  private readonly watermarks = new Map<number, number>();
  private arrivals = 0;
  /** The first watermark any CPU gave: a CPU that never reports is waited for staleNs past it. */
  private firstWatermark = Infinity;
  private lastReleased = -Infinity;
  /** Events that arrived behind an already released ts. */
  late = 0;

  /** `cpus`: every CPU that can produce events (each must report before anything is released). */
  constructor(
    private readonly emit: (event: TraceEvent) => void,
    cpus: Iterable<number>,
    private readonly staleNs = DEFAULT_STALE_NS,
    private readonly isOnline: (cpu: number) => boolean = () => false,
  ) {
    for (const c of cpus) this.watermarks.set(c, -Infinity);
  }

  get size(): number {
    return this.heap.length;
  }

  /** An event read from `cpu`'s ring; null for events stamped in userspace (/proc snapshots). */
  push(event: TraceEvent, cpu: number | null): void {
    if (event.ts < this.lastReleased) {
      this.late++;
      this.emit(event);
      return;
    }
    this.insert(event);
    if (cpu !== null) this.advance(cpu, event.ts);
  }

  /** `cpu` has been read up to `ts` (the probes' tick): nothing older can still come from it. */
  watermark(cpu: number, ts: number): void {
    this.advance(cpu, ts);
  }

  /** Release everything (end of stream). */
  flush(): void {
    this.releaseUpTo(Infinity);
  }

  private advance(cpu: number, ts: number): void {
    const prev = this.watermarks.get(cpu);
    if (prev === undefined || ts > prev) this.watermarks.set(cpu, ts);
    let newest = -Infinity;
    for (const w of this.watermarks.values()) if (w > newest) newest = w;
    if (ts < this.firstWatermark) this.firstWatermark = ts;
    const staleBelow = newest - this.staleNs;
    let low = Infinity;
    for (const [c, w] of this.watermarks) {
      if (w >= low) continue;
      const behind = w === -Infinity ? this.firstWatermark < staleBelow : w < staleBelow;
      if (!behind || this.isOnline(c)) low = w;
    }
    this.releaseUpTo(low);
  }

  private insert(event: TraceEvent): void {
    const h = this.heap;
    const node: Node = { ts: event.ts, order: this.arrivals++, event };
    let i = h.length;
    h.push(node);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(node, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = node;
  }

  private pop(): TraceEvent {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && before(h[r]!, h[l]!) ? r : l;
        if (!before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top.event;
  }

  private releaseUpTo(limit: number): void {
    while (this.heap.length > 0 && this.heap[0]!.ts <= limit) {
      const e = this.pop();
      this.lastReleased = e.ts;
      this.emit(e);
    }
  }
}

function before(a: Node, b: Node): boolean {
  return a.ts < b.ts || (a.ts === b.ts && a.order < b.order);
}
