// The fleet consumers record and live add on request: --publish (a TracePublisher) and
// --metrics (a MetricsExporter with its HTTP endpoint). Loaded only when asked for.
import type { TraceConsumer } from '../trace/consumer.js';
import { natsSecurity, PUBLISH_DEFAULTS, type PublishCliOptions } from './fleet-options.js';
import type { ModelOptions } from '../model/index.js';

/** How long the end of a recording waits for JetStream to take the spooled rest. */
const PUBLISH_DRAIN_MS = 30_000;

export interface FleetConsumers {
  consumers: TraceConsumer[];
  /** The probes are attached (metrics' attach state). */
  attached(): void;
  /** After the recording: drain the publisher, stop serving metrics. Resolves with lines to tell the user. */
  finish(): Promise<string[]>;
}

export async function startFleetConsumers(
  o: PublishCliOptions & { metrics?: { host: string; port: number } },
  log: (line: string) => void,
  model: Partial<ModelOptions> = {},
): Promise<FleetConsumers> {
  const consumers: TraceConsumer[] = [];
  const finishers: Array<() => Promise<string[]>> = [];
  let markAttached = (): void => {};
  let publisher: import('../fleet/publisher.js').TracePublisher | null = null;
  if (o.publish !== undefined) {
    const [{ TracePublisher }, { parseNatsAddress }] = await Promise.all([import('../fleet/publisher.js'), import('../fleet/connection.js')]);
    const p = new TracePublisher({
      address: parseNatsAddress(o.publish, { allowHostname: false }),
      security: natsSecurity(o),
      spoolParent: o.spoolDir ?? null,
      spoolMaxBytes: (o.spoolMax ?? PUBLISH_DEFAULTS.spoolMax) * 1024 * 1024,
      streamLimits: {
        maxBytes: (o.streamMaxBytes ?? PUBLISH_DEFAULTS.streamMaxBytes) * 1024 * 1024,
        maxAgeSeconds: (o.streamMaxAge ?? PUBLISH_DEFAULTS.streamMaxAge) * 3600,
      },
      log,
    });
    publisher = p;
    consumers.push(p);
    finishers.push(async () => {
      const { unsent, spoolDir } = await p.close(PUBLISH_DRAIN_MS);
      const lines = [
        `published ${p.stats.acknowledged} batches to ${o.publish} (${p.stats.retries} retries, ${p.stats.duplicates} duplicates the server dropped)`,
      ];
      if (p.stats.eventsNotPublished > 0)
        lines.push(`publish: ${p.stats.eventsNotPublished} events are not in the stream (spool full); the trace file has them`);
      if (unsent > 0) lines.push(`publish: ${unsent} batches were not acknowledged within ${PUBLISH_DRAIN_MS / 1000} s; they stay in ${spoolDir}`);
      return lines;
    });
  }
  if (o.metrics !== undefined) {
    const { MetricsExporter } = await import('../fleet/metrics.js');
    const m = new MetricsExporter(model);
    if (publisher !== null) {
      const p = publisher;
      m.publish = { backlog: () => p.backlog, eventsNotPublished: () => p.stats.eventsNotPublished };
    }
    const addr = await m.listen(o.metrics.host, o.metrics.port);
    log(`metrics on http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}/metrics`);
    consumers.push(m);
    markAttached = () => m.markAttached();
    finishers.push(async () => {
      await m.close();
      return [];
    });
  }
  return {
    consumers,
    attached: () => markAttached(),
    finish: async () => (await Promise.all(finishers.map((f) => f()))).flat(),
  };
}
