// The line printer for replay --speed max of a large trace off a terminal: the same lines as
// LinePrinter, made on a third thread. The trace-read worker parses, this thread runs the model
// (the findings), and line-print-worker.ts formats a line per event and writes them all: each
// encoded batch is passed on once the model has seen its records, with the finding lines and
// the events they follow. Line formatting was a third of this thread's work.
import type { Worker } from 'node:worker_threads';
import type { ParseIssue, TraceConsumer } from '../src/trace/consumer.js';
import type { EncodedBatch } from '../src/trace/event-codec.js';
import type { TraceEvent } from '../src/trace/events.js';
import { startWorker } from '../src/trace/start-worker.js';
import type { TraceHeader, TraceTrailer } from '../src/trace/trace-format.js';
import { FindingFollower } from './finding-follower.js';
import { endText, findingText, type ClockRef } from './line-format.js';
import type { ModelBinding } from './model-binding.js';

/** Main thread → printer: a batch the model has seen (`events` of its events; finding lines after the event they follow), or the end. */
export type PrinterCommand = { batch: EncodedBatch; events: number; findings: [event: number, text: string][] } | { end: string | null };
/** Printer → main thread: a batch printed, or a write failed (EPIPE: the reader went away, | head). */
export type PrinterReply = { done: 'batch' } | { done: 'write-failed'; code: string };

/** Batches passed on and not yet printed: the reader is held back past this. */
const BATCHES_AHEAD = 2;

export interface ThreadedLinePrinterOptions {
  /** The trace file (names the source of bad lines). */
  path: string;
  /** Print every event (true) or findings only. */
  events: boolean;
  /** stdout: told of a failed write (its reader went away, the disk is full) as if it had failed itself. */
  out: NodeJS.WritableStream;
}

export class ThreadedLinePrinter<S> implements TraceConsumer {
  private readonly model: FindingFollower<S>;
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private clockRef: ClockRef = null;
  private held: EncodedBatch | null = null;
  private heldEvents = 0;
  private heldFindings: [number, string][] = [];
  private endLine: string | null = null;
  private unprinted = 0;
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  private finished = false;

  constructor(
    model: ModelBinding<S>,
    private readonly opts: ThreadedLinePrinterOptions,
  ) {
    this.model = new FindingFollower(model);
    this.worker = startWorker(import.meta.url, 'line-print-worker', { path: opts.path, events: opts.events });
    this.worker.on('message', (reply: PrinterReply) => {
      // The process's handlers on stdout (src/cli/closed-output.ts) decide: EPIPE ends quietly.
      if (reply.done === 'write-failed') opts.out.emit('error', Object.assign(new Error(`write ${reply.code}`), { code: reply.code }));
      this.unprinted--;
      this.notify();
    });
    this.worker.on('error', (e) => {
      this.failure = e;
      this.notify();
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** For replayTrace: each encoded batch, before its records; the one before goes to the printer. */
  readonly onEncodedBatch = (batch: EncodedBatch): Promise<void> | undefined => {
    this.passOn();
    this.held = batch;
    if (this.failure !== null) throw this.failure;
    return this.unprinted >= BATCHES_AHEAD ? this.printed() : undefined;
  };

  onHeader(h: TraceHeader): void {
    this.clockRef = h.clockRef; // the printer prints the header lines from the batch
  }

  onEvent(e: TraceEvent): void {
    this.model.reduce(e);
    for (const f of this.model.newFindings()) this.heldFindings.push([this.heldEvents, findingText(f, this.clockRef)]);
    this.heldEvents++;
  }

  onIssue(_issue: ParseIssue): void {
    // The printer prints it from the batch, in its place among the lines.
  }

  onEnd(t: TraceTrailer): void {
    this.endLine = endText(t, this.model.printed);
  }

  /** After the replay (ended, stopped or failed): the rest printed, the printer gone. */
  async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.passOn();
    this.worker.postMessage({ end: this.endLine } satisfies PrinterCommand);
    await this.exited;
    if (this.failure !== null) throw this.failure;
  }

  private passOn(): void {
    const batch = this.held;
    if (batch === null) return;
    this.held = null;
    this.unprinted++;
    // The reader decoded it already: its slots can move.
    this.worker.postMessage({ batch, events: this.heldEvents, findings: this.heldFindings } satisfies PrinterCommand, [batch.slots]);
    this.heldEvents = 0;
    this.heldFindings = [];
  }

  private async printed(): Promise<void> {
    while (this.unprinted >= BATCHES_AHEAD && this.failure === null) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.failure !== null) throw this.failure;
  }

  private notify(): void {
    this.wake?.();
    this.wake = null;
  }
}
