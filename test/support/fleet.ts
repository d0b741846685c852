// What the fleet tests share: a publisher to a test server, reading a stream back, the gate for nats-server.
import { parseNatsAddress, type NatsSecurity } from '../../src/fleet/connection.js';
import { DEFAULT_STREAM_LIMITS, TracePublisher } from '../../src/fleet/publisher.js';
import { readFleetStream, type RecordingInfo } from '../../src/fleet/stream-reader.js';
import type { TraceRecord } from '../../src/trace/trace-reader.js';
import { requireLive } from './live-gate.js';
import { natsServerInstalled } from './nats-server.js';

/** True: skip (no nats-server). Under EXETRACE_REQUIRE_LIVE=1 it throws instead, failing the file. */
export function skipNoNats(): boolean {
  if (natsServerInstalled()) return false;
  if (requireLive) throw new Error('nats-server is not installed (scripts/setup.sh) but EXETRACE_REQUIRE_LIVE=1');
  return true;
}

/** A publisher to `url` spooling under `spoolParent`; its log lines go to `logs`. */
export function testPublisher(
  url: string,
  spoolParent: string,
  logs: string[] = [],
  spoolMaxBytes = 64 * 1024 * 1024,
  security: NatsSecurity = {},
): TracePublisher {
  return new TracePublisher({
    address: parseNatsAddress(url, { allowHostname: false }),
    security,
    spoolParent,
    spoolMaxBytes,
    streamLimits: DEFAULT_STREAM_LIMITS,
    log: (m) => logs.push(m),
  });
}

/** Everything the stream holds now (one host's or all), as the reader hands it out, per recording. */
export async function readAll(url: string) {
  const recordings: Array<{ info: RecordingInfo; records: TraceRecord[]; ended: boolean }> = [];
  const problems: string[] = [];
  const summary = await readFleetStream({
    address: parseNatsAddress(url, { allowHostname: true }),
    security: {},
    follow: false,
    open: (info) => {
      const r = { info, records: [] as TraceRecord[], ended: false };
      recordings.push(r);
      return { push: (b) => void r.records.push(...b), end: () => (r.ended = true) };
    },
    onProblem: (m) => problems.push(m),
  });
  return { recordings, problems, summary };
}

export const eventsOf = (recs: TraceRecord[]) => recs.flatMap((r) => (r.type === 'event' ? [r.event] : []));
