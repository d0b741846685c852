// Events per second over the last second, on the kernel's CLOCK_MONOTONIC (event `ts`).
// Counting in 100 ms buckets keeps memory constant whatever the rate.

const BUCKET_NS = 100_000_000;
const BUCKETS = 10; // 10 × 100 ms = the one-second window

export class EventRate {
  private counts = new Array<number>(BUCKETS).fill(0);
  private ids = new Array<number>(BUCKETS).fill(-1);

  add(tsNs: number): void {
    const id = Math.floor(tsNs / BUCKET_NS);
    const slot = id % BUCKETS;
    if (this.ids[slot] !== id) {
      this.ids[slot] = id;
      this.counts[slot] = 0;
    }
    this.counts[slot]! += 1;
  }

  /** Events per second in the window ending at `nowNs`. */
  rateAt(nowNs: number): number {
    const current = Math.floor(nowNs / BUCKET_NS);
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) {
      const id = this.ids[i]!;
      if (id > current - BUCKETS && id <= current) sum += this.counts[i]!;
    }
    return sum;
  }
}
