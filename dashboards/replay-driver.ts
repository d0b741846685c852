// Feeds a recorded trace to a consumer at N× the recorded pace (event `ts`), or as fast as
// possible, honouring pause and stop. Records come from readTrace (src/trace/trace-reader.ts).
import type { TraceConsumer } from '../src/trace/consumer.js';
import type { TraceRecord } from '../src/trace/trace-reader.js';
import type { TraceHeader, TraceTrailer } from '../src/trace/trace-format.js';

export type ReplaySpeed = number | 'max';

/** Parse `--speed`: a positive number (× real time) or "max". */
export function parseSpeed(text: string): ReplaySpeed {
  if (text === 'max') return 'max';
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--speed must be a positive number or "max", got "${text}"`);
  return n;
}

export interface ReplayControl {
  /** Resolves when not paused. */
  whenRunning(): Promise<void>;
  /** True once the user quit: stop feeding. */
  stopped(): boolean;
}

export interface ReplayOutcome {
  header: TraceHeader | null;
  trailer: TraceTrailer | null;
  events: number;
  issues: number;
  stoppedEarly: boolean;
}

/** At max speed, yield to the event loop this often so keys and redraws get through. */
const YIELD_EVERY = 256;
/** Gaps in the recording longer than this are shortened: nobody wants to watch an idle minute. */
const MAX_IDLE_MS = 2000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function driveReplay(
  records: AsyncIterable<TraceRecord>,
  path: string,
  consumer: TraceConsumer,
  speed: ReplaySpeed,
  control: ReplayControl,
): Promise<ReplayOutcome> {
  const out: ReplayOutcome = { header: null, trailer: null, events: 0, issues: 0, stoppedEarly: false };
  let lostEvents = 0;
  let lastError: string | null = null;
  let prevTs: number | null = null;
  for await (const rec of records) {
    if (control.stopped()) {
      out.stoppedEarly = true;
      break;
    }
    switch (rec.type) {
      case 'header':
        out.header = rec.header;
        consumer.onHeader?.(rec.header);
        break;
      case 'event': {
        await control.whenRunning();
        if (control.stopped()) {
          out.stoppedEarly = true;
          break;
        }
        const ts = rec.event.ts;
        if (speed === 'max') {
          if (out.events % YIELD_EVERY === 0) await yieldToLoop();
        } else if (prevTs !== null && ts > prevTs) {
          // Pace by the gap to the previous event; time spent paused is not counted.
          const waitMs = Math.min(MAX_IDLE_MS, (ts - prevTs) / 1e6 / speed);
          if (waitMs >= 1) await sleep(waitMs);
          else if (out.events % YIELD_EVERY === 0) await yieldToLoop();
        }
        prevTs = ts;
        out.events++;
        if (rec.event.kind === 'gap') lostEvents += rec.event.lost;
        consumer.onEvent(rec.event);
        break;
      }
      case 'error':
        out.issues++;
        lastError = `${path}:${rec.line}: ${rec.cause}`;
        consumer.onIssue?.({ source: path, line: rec.line, cause: rec.cause, raw: rec.raw });
        break;
      case 'trailer':
        out.trailer = rec.trailer;
        break;
    }
    if (out.stoppedEarly) break;
  }
  if (out.header !== null && !out.stoppedEarly) {
    // Same contract as replayTrace: a cut-short trace still ends with a synthesised trailer.
    consumer.onEnd?.(
      out.trailer ?? {
        magic: 'exetrace-trailer',
        endedAt: '',
        events: out.events,
        lostEvents,
        parseIssues: out.issues,
        reason: 'error',
        error: lastError ?? 'truncated: no trailer',
      },
    );
  }
  return out;
}
