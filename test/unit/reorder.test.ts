import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/trace/events.js';
import { CpuOrderMerge } from '../../src/trace/reorder.js';

const ev = (ts: number, tag = 0): TraceEvent => ({ kind: 'gap', ts, lost: tag, source: 'decoder' });

function harness(cpus = [0, 1], staleNs?: number) {
  const out: TraceEvent[] = [];
  const m = new CpuOrderMerge((e) => out.push(e), cpus, staleNs);
  return { m, out, ts: () => out.map((e) => e.ts), tags: () => out.map((e) => (e.kind === 'gap' ? e.lost : -1)) };
}

describe('CpuOrderMerge', () => {
  it('holds everything until every CPU has reported, then releases in ts order', () => {
    const h = harness();
    for (const t of [10, 20, 30]) h.m.push(ev(t), 0);
    expect(h.out).toHaveLength(0);
    h.m.push(ev(5), 1);
    expect(h.ts()).toEqual([5]);
    h.m.watermark(1, 25);
    expect(h.ts()).toEqual([5, 10, 20]);
    h.m.flush();
    expect(h.ts()).toEqual([5, 10, 20, 30]);
    expect(h.m.late).toBe(0);
  });

  it('interleaves two CPU batches read one after the other exactly', () => {
    const h = harness();
    for (const t of [1, 4, 7, 10]) h.m.push(ev(t), 0);
    for (const t of [2, 3, 8, 9]) h.m.push(ev(t), 1);
    h.m.watermark(0, 11);
    h.m.watermark(1, 11);
    expect(h.ts()).toEqual([1, 2, 3, 4, 7, 8, 9, 10]);
  });

  it('keeps arrival order for equal timestamps', () => {
    const h = harness([0]);
    h.m.push(ev(5, 1), null);
    h.m.push(ev(5, 2), null);
    h.m.push(ev(3, 3), null);
    h.m.watermark(0, 5);
    expect(h.tags()).toEqual([3, 1, 2]);
  });

  it('userspace events (cpu null) wait for the kernel CPUs to pass them', () => {
    const h = harness([0]);
    h.m.push(ev(100, 1), null);
    h.m.push(ev(50, 2), 0);
    expect(h.tags()).toEqual([2]);
    h.m.watermark(0, 100);
    expect(h.tags()).toEqual([2, 1]);
  });

  it('a CPU silent far behind the others stops holding them; its stragglers count as late', () => {
    const h = harness([0, 1], 1000);
    h.m.push(ev(10), 1);
    h.m.push(ev(500), 0);
    expect(h.ts()).toEqual([10]);
    h.m.push(ev(2000), 0); // cpu 1 at 10 is more than 1000 behind 2000: ignored
    expect(h.ts()).toEqual([10, 500, 2000]);
    h.m.push(ev(20), 1);
    expect(h.m.late).toBe(1);
    expect(h.ts()).toEqual([10, 500, 2000, 20]);
  });
});
