// `exetrace analyze nats://HOST:PORT[/HOSTNAME]`: every recording the fleet stream holds (of one
// host, or of all), each analysed by its own reducer exactly as its trace file would be, printed
// one section per recording in stream order (JSON: one document per recording).
import { BatchChannel } from '../fleet/channel.js';
import { parseNatsAddress, type NatsAddress } from '../fleet/connection.js';
import { readFleetStream, StreamReadError } from '../fleet/stream-reader.js';
import { analyzeRecords } from '../report/analyze-trace.js';
import { sanitize } from '../report/sanitize.js';
import type { TraceRecord } from '../trace/trace-reader.js';
import { prepareSection, type AnalyzeCliOptions, type PreparedSection } from './analyze-section.js';
import { natsSecurity, type NatsCliOptions } from './fleet-options.js';

export async function runAnalyzeFleet(
  url: string,
  opts: AnalyzeCliOptions & NatsCliOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let address: NatsAddress;
  try {
    address = parseNatsAddress(url, { allowHostname: true });
  } catch (e) {
    err.write(`exetrace analyze: ${sanitize((e as Error).message)}\n`);
    return 2;
  }
  const sections: Promise<PreparedSection | null>[] = [];
  try {
    try {
      await readFleetStream({
        address,
        security: natsSecurity(opts),
        follow: false,
        open: (info) => {
          const channel = new BatchChannel<TraceRecord[]>();
          sections.push(prepareSection((o) => analyzeRecords(channel, info.name, o), opts, err));
          return { push: (batch) => channel.push(batch), end: () => channel.end() };
        },
        onProblem: (m) => err.write(`exetrace analyze: ${sanitize(m)}\n`),
      });
    } catch (e) {
      if (!(e instanceof StreamReadError)) throw e;
      err.write(`exetrace analyze: ${sanitize(e.message)}\n`);
      return 2;
    }
    const ready = await Promise.all(sections);
    let first = true;
    for (const s of ready) {
      if (s === null) continue; // said on stderr already: the recording's first line was no header
      if (!first && opts.format !== 'json') out.write('\n');
      first = false;
      await s.write(out);
    }
    return ready.some((s) => s !== null) ? 0 : 2;
  } finally {
    for (const s of await Promise.allSettled(sections)) if (s.status === 'fulfilled') s.value?.dispose();
  }
}
