// `exetrace analyze nats://HOST:PORT[/HOSTNAME]`: every recording the fleet stream holds (of one
// host, or of all), each analysed by its own reducer exactly as its trace file would be, printed
// one whole report per recording in stream order (JSON: one document per recording).
import type { ExceptionRule } from '../model/index.js';
import { BatchChannel } from '../fleet/channel.js';
import { parseNatsAddress, type NatsAddress } from '../fleet/connection.js';
import { readFleetStream, StreamReadError } from '../fleet/stream-reader.js';
import { analyzeRecords } from '../report/analyze-trace.js';
import { prepareSection, writeAndWait, type PreparedSection } from '../report/prepared-section.js';
import { sanitize } from '../report/sanitize.js';
import { totalsOf } from '../report/totals.js';
import type { TraceRecord } from '../trace/trace-reader.js';
import { DOCUMENTS, type AnalyzeCliOptions } from './analyze-options.js';
import { natsSecurity, type NatsCliOptions } from './fleet-options.js';

export async function runAnalyzeFleet(
  url: string,
  opts: AnalyzeCliOptions & NatsCliOptions,
  exceptions: ExceptionRule[],
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
  const doc = DOCUMENTS[opts.format];
  const filters = { pid: opts.pid ?? null, comm: opts.comm ?? null };
  const sections: Promise<PreparedSection>[] = [];
  try {
    try {
      await readFleetStream({
        address,
        security: natsSecurity(opts),
        follow: false,
        open: (info) => {
          const channel = new BatchChannel<TraceRecord[]>();
          sections.push(
            prepareSection(
              (o) => analyzeRecords(channel, info.name, o),
              doc.section(0, 1),
              { filters, lenient: opts.lenient === true, model: { exceptions } },
              err,
            ),
          );
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
    let printed = 0;
    for (const s of ready) {
      const { report, header } = s.result;
      if (header === null) continue; // said on stderr already: the recording's first line was no header
      if (printed > 0 && opts.format !== 'json') await writeAndWait(out, '\n');
      await writeAndWait(out, doc.begin(1));
      await s.write(out);
      await writeAndWait(out, doc.end(totalsOf([report]), 1));
      printed++;
    }
    return printed > 0 ? 0 : 2;
  } finally {
    for (const s of await Promise.allSettled(sections)) if (s.status === 'fulfilled') s.value.dispose();
  }
}
