import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/trace/events.js';
import { ReorderWindow } from '../../src/trace/reorder.js';

const ev = (ts: number, tag = 0): TraceEvent => ({ kind: 'gap', ts, lost: tag, source: 'decoder' });

function harness(windowNs: number) {
  const out: TraceEvent[] = [];
  const w = new ReorderWindow((e) => out.push(e), windowNs);
  return { w, out, ts: () => out.map((e) => e.ts), tags: () => out.map((e) => (e.kind === 'gap' ? e.lost : -1)) };
}

describe('ReorderWindow', () => {
  it('sorts events that arrive out of order within the window', () => {
    const h = harness(100);
    for (const t of [10, 5, 30, 20, 1]) h.w.push(ev(t));
    expect(h.out).toHaveLength(0);
    h.w.flush();
    expect(h.ts()).toEqual([1, 5, 10, 20, 30]);
  });

  it('releases only events older than the newest minus the window', () => {
    const h = harness(100);
    h.w.push(ev(50));
    h.w.push(ev(120));
    expect(h.ts()).toEqual([]);
    h.w.push(ev(160)); // limit 60: 50 goes
    expect(h.ts()).toEqual([50]);
    h.w.push(ev(100)); // still within the window, held
    h.w.push(ev(300)); // limit 200: 100, 120, 160 go, sorted
    expect(h.ts()).toEqual([50, 100, 120, 160]);
    expect(h.w.size).toBe(1);
  });

  it('keeps arrival order for equal timestamps', () => {
    const h = harness(10);
    h.w.push(ev(5, 1));
    h.w.push(ev(5, 2));
    h.w.push(ev(3, 3));
    h.w.push(ev(5, 4));
    h.w.flush();
    expect(h.tags()).toEqual([3, 1, 2, 4]);
  });

  it('emits a late event at once and counts it', () => {
    const h = harness(10);
    h.w.push(ev(100));
    h.w.push(ev(200)); // releases 100
    h.w.push(ev(50));
    expect(h.ts()).toEqual([100, 50]);
    expect(h.w.late).toBe(1);
  });

  it('tick releases held events on a quiet stream', () => {
    const h = harness(100);
    h.w.push(ev(1000));
    h.w.tick(1050);
    expect(h.ts()).toEqual([]);
    h.w.tick(1100);
    expect(h.ts()).toEqual([1000]);
  });

  it('sorts a large shuffled stream from several "CPUs"', () => {
    const h = harness(1_000_000);
    const cpus = [0, 1, 2, 3].map((c) => Array.from({ length: 500 }, (_, i) => i * 4000 + c));
    // Interleave chunks from each CPU, as per-CPU buffers are drained.
    for (let chunk = 0; chunk < 50; chunk++) for (const list of cpus) for (const t of list.slice(chunk * 10, chunk * 10 + 10)) h.w.push(ev(t));
    h.w.flush();
    const got = h.ts();
    expect(got).toHaveLength(2000);
    expect([...got].sort((a, b) => a - b)).toEqual(got);
    expect(h.w.late).toBe(0);
  });
});

describe('ReorderWindow with userspace-stamped events', () => {
  it('a snapshot stamped "now" does not push kernel events still in flight out as late', () => {
    const h = harness(100);
    h.w.push(ev(1000));
    h.w.push(ev(5000, 9), false); // snapshot far ahead
    expect(h.ts()).toEqual([]);
    h.w.push(ev(1050)); // a kernel event from another CPU's buffer
    h.w.push(ev(6000)); // kernel time passes the snapshot
    expect(h.tags()).toEqual([0, 0, 9]);
    expect(h.w.late).toBe(0);
  });
});
