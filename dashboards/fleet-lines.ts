// `live --from` off a terminal: every recording of the fleet through its own LinePrinter (its
// own reducer and clock), each line prefixed with the host, so one log holds the whole fleet.
import type { ParseIssue, TraceConsumer } from '../src/trace/consumer.js';
import type { TraceEvent } from '../src/trace/events.js';
import type { FleetRecording, FleetSink } from './fleet-sink.js';
import { LinePrinter, type LinePrinterOptions } from './line-printer.js';
import type { ModelBinding } from './model-binding.js';
import { sanitizeForDisplay } from './sanitize-display.js';

/** Writes `text` (whole lines) with `prefix` before each line. */
function prefixed(out: NodeJS.WritableStream, prefix: string): NodeJS.WritableStream {
  const write = (text: string | Uint8Array): boolean => {
    const s = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
    return out.write(s.replace(/^(?=.)/gm, prefix));
  };
  return { write } as unknown as NodeJS.WritableStream;
}

export class FleetLinePrinter<S> implements FleetSink {
  private readonly width: number;

  constructor(
    private readonly model: ModelBinding<S>,
    private readonly opts: LinePrinterOptions,
    hostWidth = 16,
  ) {
    this.width = hostWidth;
  }

  open(r: FleetRecording): TraceConsumer {
    const host = sanitizeForDisplay(r.host);
    return new LinePrinter(this.model, {
      ...this.opts,
      out: prefixed(this.opts.out, `${host.padEnd(this.width)} `),
      err: prefixed(this.opts.err, `${host}: `),
    });
  }

  // The fleet as a whole has no header, events or end of its own: each recording has them.
  onEvent(_e: TraceEvent): void {}

  onIssue(i: ParseIssue): void {
    this.opts.err.write(`exetrace: ${sanitizeForDisplay(i.source)}: ${sanitizeForDisplay(i.cause)}\n`);
  }
}
