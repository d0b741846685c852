// The non-TTY output: when stdout is a pipe or file, print one line per event and one per
// finding instead of drawing (as bcc tools do). It feeds the same reducer as the dashboard.
import type { ParseIssue, TraceConsumer } from '../src/trace/consumer.js';
import type { TraceEvent } from '../src/trace/events.js';
import type { TraceHeader, TraceTrailer } from '../src/trace/trace-format.js';
import type { ModelBinding } from './model-binding.js';
import { TextBuffer } from '../src/report/text-buffer.js';
import { EVENT_LINE_HEADER, eventLine } from './event-line.js';
import { formatTs } from './format.js';
import { sanitizeForDisplay as s } from './sanitize-display.js';

export interface LinePrinterOptions {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Print every event (true) or findings only. */
  events: boolean;
}

/** Lines are written in batches: one write() per this many bytes or per turn of the event loop. */
const BATCH_BYTES = 64 * 1024;

export class LinePrinter<S> implements TraceConsumer {
  private state: S;
  private printedFindings = 0;
  private clockRef: TraceHeader['clockRef'] | null = null;
  private readonly batch = new TextBuffer(BATCH_BYTES);
  private flushScheduled = false;

  constructor(
    private readonly model: ModelBinding<S>,
    private readonly opts: LinePrinterOptions,
  ) {
    this.state = model.initialLineState?.() ?? model.initialState();
  }

  onHeader(h: TraceHeader): void {
    this.clockRef = h.clockRef;
    this.write(`# exetrace ${s(h.toolVersion)} flavor ${h.flavor} kernel ${s(h.kernelRelease)} host ${s(h.hostname)} started ${s(h.startedAt)}\n`);
    this.write(`${EVENT_LINE_HEADER}\n`);
  }

  onEvent(e: TraceEvent): void {
    this.state = this.model.reduce(this.state, e);
    if (this.opts.events) this.write(`${eventLine(e, formatTs(e.ts, this.clockRef))}\n`);
    const { rows, total } = this.model.findings(this.state);
    if (total === this.printedFindings) return;
    // The newest (total - printed) rows are new; rows dropped by the model's cap are skipped.
    const fresh = rows.slice(Math.max(0, rows.length - (total - this.printedFindings)));
    this.printedFindings = total;
    for (const f of fresh) {
      const mark = f.uncertain ? 'FINDING?' : 'FINDING';
      this.write(
        `${formatTs(f.ts, this.clockRef).padEnd(12)} ${String(f.pid).padStart(7)} ${s(f.comm).padEnd(16)} ${mark.padEnd(13)} ` +
          `${s(f.class)}${f.expected !== null ? ` expected=${s(f.expected)}` : ''} exe=${s(f.exe)} vma-walk=${s(f.vmaWalk) || '-'} legacy-walk=${s(f.legacyWalk) || '-'} mm=${f.mm}: ${s(f.explanation)}\n`,
      );
    }
  }

  onIssue(i: ParseIssue): void {
    this.flush(); // keep stderr and stdout in their real order
    this.opts.err.write(`exetrace: ${s(i.source)}:${i.line}: ${s(i.cause)}\n`);
  }

  onEnd(t: TraceTrailer): void {
    this.write(`# end: ${t.reason}${t.error !== null ? ` (${s(t.error)})` : ''}, ${t.events} events, ${t.lostEvents} lost, ${this.printedFindings} findings\n`);
    this.flush();
  }

  /** A busy host prints thousands of lines a second: one write() per line was most of live's cost. */
  private write(line: string): void {
    if (!this.batch.append(line)) {
      this.flush();
      if (!this.batch.append(line)) this.opts.out.write(line);
      return;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.batch.bytes > 0) this.opts.out.write(this.batch.take());
  }
}
