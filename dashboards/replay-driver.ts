// Feeds a recorded trace to a consumer at N× the recorded pace (event `ts`), or as fast as
// possible, honouring pause and stop. Records come from readTrace (src/trace/trace-reader.ts).
import type { TraceConsumer } from '../src/trace/consumer.js';
import { replayTrace, type ReplaySummary, type TraceRecord } from '../src/trace/trace-reader.js';
import type { ReplaySpeed } from './replay-speed.js';

export interface ReplayControl {
  /** Resolves when not paused. */
  whenRunning(): Promise<void>;
  /** True once the user quit: stop feeding. */
  stopped(): boolean;
}

export type ReplayOutcome = ReplaySummary;

/** At max speed, yield to the event loop this often so keys and redraws get through. */
const YIELD_EVERY = 256;
/** Gaps in the recording longer than this are shortened: nobody wants to watch an idle minute. */
const MAX_IDLE_MS = 2000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** replayTrace, paced: N× the recorded gaps between events, or as fast as possible. */
export async function driveReplay(
  records: AsyncIterable<TraceRecord>,
  path: string,
  consumer: TraceConsumer,
  speed: ReplaySpeed,
  control: ReplayControl,
): Promise<ReplayOutcome> {
  let prevTs: number | null = null;
  return replayTrace(path, consumer, {
    records,
    stopped: () => control.stopped(),
    beforeEvent: async (event, index) => {
      await control.whenRunning();
      const ts = event.ts;
      if (speed !== 'max' && prevTs !== null && ts > prevTs) {
        // Pace by the gap to the previous event; time spent paused is not counted.
        const waitMs = Math.min(MAX_IDLE_MS, (ts - prevTs) / 1e6 / speed);
        if (waitMs >= 1) await sleep(waitMs);
        else if (index % YIELD_EVERY === 0) await yieldToLoop();
      } else if (index % YIELD_EVERY === 0) {
        await yieldToLoop();
      }
      prevTs = ts;
    },
  });
}
