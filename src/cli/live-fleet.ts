// `exetrace live --from nats://HOST:PORT[/HOSTNAME]`: the dashboard over what the fleet
// publishes. The stream reader finds each recording; each is replayed (the same hooks and
// reading rules as a trace file) into its own consumer from the fleet sink, so every host has
// its own reducer. Follows the stream until quit.
import { BatchChannel } from '../fleet/channel.js';
import { parseNatsAddress } from '../fleet/connection.js';
import { readFleetStream } from '../fleet/stream-reader.js';
import { replayTrace, type TraceRecord } from '../trace/trace-reader.js';
import { natsSecurity, type NatsCliOptions } from './fleet-options.js';
import type { ExceptionRule } from '../model/index.js';

async function* flatten(batches: AsyncIterable<TraceRecord[]>): AsyncGenerator<TraceRecord> {
  for await (const b of batches) yield* b;
}

export async function liveFromFleet(url: string, opts: NatsCliOptions & { findingsOnly?: boolean }, exceptions: ExceptionRule[] = []): Promise<number> {
  const address = parseNatsAddress(url, { allowHostname: true });
  const security = natsSecurity(opts);
  const [{ runFleetDashboard }, { exetraceModelWith }] = await Promise.all([
    import('../../dashboards/run-dashboard.js'),
    import('../../dashboards/exetrace-model.js'),
  ]);
  return runFleetDashboard({
    model: exetraceModelWith({ exceptions }),
    source: 'live',
    printEvents: opts.findingsOnly !== true,
    stopBudget: { killAfterMs: 5_000, stopTimeoutMs: 10_000 },
    start(sink, control) {
      const abort = new AbortController();
      const replays: Promise<unknown>[] = [];
      const done = readFleetStream({
        address,
        security,
        follow: true,
        signal: abort.signal,
        open: (info) => {
          const channel = new BatchChannel<TraceRecord[]>();
          replays.push(replayTrace(info.name, sink.open(info), { records: flatten(channel) }));
          return { push: (b) => channel.push(b), end: () => channel.end() };
        },
        onProblem: (m) => sink.onIssue?.({ source: url, line: 0, cause: m, raw: '' }),
      }).then(async () => {
        await Promise.all(replays);
      });
      control.markAttached();
      return {
        done,
        stop: async () => {
          abort.abort();
          await done.catch(() => {});
        },
      };
    },
  });
}
