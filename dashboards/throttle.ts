// Redraw throttling: events can arrive at tens of thousands per second, the screen needs at
// most a few frames. The first call runs at once, later calls within the interval collapse
// into one trailing call.

export interface Throttled {
  (): void;
  /** Run a pending call now. */
  flush(): void;
  cancel(): void;
}

export interface TimerApi {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: TimerApi = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.(); // a pending redraw must not keep the process alive
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export function throttle(fn: () => void, intervalMs: number, timers: TimerApi = realTimers): Throttled {
  let last = -Infinity;
  let pending: unknown = null;
  const run = (): void => {
    pending = null;
    last = timers.now();
    fn();
  };
  const call = ((): void => {
    if (pending !== null) return;
    const wait = last + intervalMs - timers.now();
    if (wait <= 0) run();
    else pending = timers.setTimeout(run, wait);
  }) as Throttled;
  call.flush = () => {
    if (pending === null) return;
    timers.clearTimeout(pending);
    run();
  };
  call.cancel = () => {
    if (pending !== null) timers.clearTimeout(pending);
    pending = null;
  };
  return call;
}
