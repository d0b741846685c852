import { describe, expect, it } from 'vitest';
import { DashboardStore } from '../../dashboards/dashboard-store.js';
import { EventRate } from '../../dashboards/event-rate.js';
import { exetraceModel } from '../../dashboards/exetrace-model.js';
import { throttle, type TimerApi } from '../../dashboards/throttle.js';
import { sampleEvents } from '../e2e/support/sample-trace.js';

/** A hand-driven clock: timers fire only when the test advances time. */
function fakeTimers() {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  const api: TimerApi = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const t = { at: now + ms, fn, id: nextId++ };
      timers.push(t);
      return t.id;
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
  };
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.filter((x) => x.at <= now)) {
      timers = timers.filter((x) => x !== t);
      t.fn();
    }
  };
  return { api, advance };
}

describe('throttle', () => {
  it('runs the first call at once and collapses a burst into one trailing call', () => {
    const { api, advance } = fakeTimers();
    let runs = 0;
    const t = throttle(() => runs++, 100, api);
    t();
    expect(runs).toBe(1);
    for (let i = 0; i < 1000; i++) t();
    expect(runs).toBe(1);
    advance(99);
    expect(runs).toBe(1);
    advance(1);
    expect(runs).toBe(2);
    advance(500);
    expect(runs).toBe(2);
    t();
    t.cancel();
    t();
    expect(runs).toBe(3);
  });
});

describe('DashboardStore', () => {
  it('reduces every event but publishes at most once per frame', () => {
    const { api, advance } = fakeTimers();
    const store = new DashboardStore(exetraceModel, { source: 'replay', fps: 10, timers: api });
    let published = 0;
    store.subscribe(() => published++);
    const events = sampleEvents({ plain: 50 });
    for (const e of events) store.onEvent(e);
    expect(published).toBe(1); // the leading call only
    expect(store.getSnapshot().stats.events).toBe(1);
    advance(100);
    expect(published).toBe(2);
    const snap = store.getSnapshot();
    expect(snap.stats.events).toBe(events.length);
    expect(snap.stats.lostEvents).toBe(3);
    expect(exetraceModel.view(snap.state).rows).toHaveLength(53);
  });

  it('pause freezes the picture, resume publishes what arrived meanwhile; whenRunning waits', async () => {
    const { api, advance } = fakeTimers();
    const store = new DashboardStore(exetraceModel, { source: 'live', fps: 10, timers: api });
    const [a, b, ...rest] = sampleEvents({ plain: 2 });
    store.onEvent(a!);
    store.onEvent(b!);
    advance(100);
    const before = store.getSnapshot();
    store.setPaused(true);
    expect(store.getSnapshot().stats.paused).toBe(true);
    expect(store.getSnapshot().state).toBe(before.state);
    let resumed = false;
    const waiting = store.whenRunning().then(() => (resumed = true));
    for (const e of rest) store.onEvent(e);
    advance(1000);
    expect(store.getSnapshot().state).toBe(before.state);
    expect(store.currentState).not.toBe(before.state); // the model kept going underneath
    expect(resumed).toBe(false);
    store.setPaused(false);
    await waiting;
    expect(resumed).toBe(true);
    expect(store.getSnapshot().state).toBe(store.currentState);
  });
});

describe('EventRate', () => {
  it('counts events in the last second of the kernel clock', () => {
    const r = new EventRate();
    const s = 1_000_000_000;
    for (let i = 0; i < 50; i++) r.add(10 * s + i * 10_000_000); // 50 events over 0.5 s
    expect(r.rateAt(10 * s + 600_000_000)).toBe(50);
    // 100 ms buckets: at 11.25 s the window holds the buckets from 10.3 s on.
    expect(r.rateAt(11 * s + 250_000_000)).toBe(20);
    expect(r.rateAt(12 * s)).toBe(0);
  });
});
