// The non-TTY output: when stdout is a pipe or file, print one line per event and one per
// finding instead of drawing (as bcc tools do). It feeds the same reducer as the dashboard.
import type { ParseIssue, TraceConsumer } from '../src/trace/consumer.js';
import type { TraceEvent } from '../src/trace/events.js';
import type { TraceHeader, TraceTrailer } from '../src/trace/trace-format.js';
import type { ModelBinding } from './model-binding.js';
import { TextBuffer } from '../src/report/text-buffer.js';
import { FindingFollower } from './finding-follower.js';
import { endText, eventText, findingText, headerLines, issueText } from './line-format.js';

export interface LinePrinterOptions {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Print every event (true) or findings only. */
  events: boolean;
}

/** Lines are written in batches: one write() per this many bytes or per turn of the event loop. */
const BATCH_BYTES = 64 * 1024;

export class LinePrinter<S> implements TraceConsumer {
  private readonly model: FindingFollower<S>;
  private clockRef: TraceHeader['clockRef'] | null = null;
  private readonly batch = new TextBuffer(BATCH_BYTES);
  private flushScheduled = false;

  constructor(
    model: ModelBinding<S>,
    private readonly opts: LinePrinterOptions,
  ) {
    this.model = new FindingFollower(model);
  }

  onHeader(h: TraceHeader): void {
    this.clockRef = h.clockRef;
    this.write(headerLines(h));
  }

  onEvent(e: TraceEvent): void {
    this.model.reduce(e);
    if (this.opts.events) this.write(eventText(e, this.clockRef));
    for (const f of this.model.newFindings()) this.write(findingText(f, this.clockRef));
  }

  onIssue(i: ParseIssue): void {
    this.flush(); // keep stderr and stdout in their real order
    this.opts.err.write(issueText(i));
  }

  onEnd(t: TraceTrailer): void {
    this.write(endText(t, this.model.printed));
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
