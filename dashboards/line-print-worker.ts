// The writing half of the threaded line printer (threaded-line-printer.ts), in a worker thread:
// it decodes the batches the main thread passes on once its model has seen them, prints a line
// per record as the line printer would, puts each finding line the main thread sent after the
// event that raised it, and writes to the process's stdout and stderr itself.
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { TextBuffer } from '../src/report/text-buffer.js';
import { EventDecoder } from '../src/trace/event-codec.js';
import { eventText, headerLines, issueText, type ClockRef } from './line-format.js';
import type { PrinterCommand, PrinterReply } from './threaded-line-printer.js';

const port = parentPort!;
const { path, events } = workerData as { path: string; events: boolean };
const OUT_BYTES = 256 * 1024;
const out = new TextBuffer(OUT_BYTES);
const decoder = new EventDecoder();
const pause = new Int32Array(new SharedArrayBuffer(4));
let clockRef: ClockRef = null;

/** A write to stdout or stderr failed: the main thread reports it as its own stream's error. */
class WriteFailed extends Error {
  constructor(readonly code: string) {
    super(`write failed: ${code}`);
  }
}

/** All of `buf` to `fd`; a non-blocking pipe that is full is waited for. */
function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 1);
      else throw new WriteFailed(code ?? 'EIO');
    }
  }
}

function flush(): void {
  if (out.bytes > 0) writeAll(1, out.drain());
}

function print(text: string): void {
  if (out.append(text)) return;
  flush();
  if (!out.append(text)) writeAll(1, Buffer.from(text, 'utf8'));
}

function render(command: Extract<PrinterCommand, { batch: unknown }>): void {
  const findings = command.findings;
  let next = 0;
  let event = 0;
  for (const records of decoder.records(command.batch, 4096)) {
    for (const r of records) {
      switch (r.type) {
        case 'header':
          clockRef = r.header.clockRef;
          print(headerLines(r.header));
          break;
        case 'event':
          // Past the last event the model saw (the replay was stopped): nothing more of this batch.
          if (event >= command.events) return;
          if (events) print(eventText(r.event, clockRef));
          while (next < findings.length && findings[next]![0] === event) print(findings[next++]![1]);
          event++;
          break;
        case 'error':
          flush(); // stderr and stdout in their real order
          try {
            writeAll(2, Buffer.from(issueText({ source: path, line: r.line, cause: r.cause }), 'utf8'));
          } catch (e) {
            if (!(e instanceof WriteFailed)) throw e; // stderr is gone: nowhere left to say it
          }
          break;
        case 'trailer':
          break;
      }
    }
  }
}

port.on('message', (command: PrinterCommand) => {
  try {
    if ('batch' in command) {
      render(command);
      port.postMessage({ done: 'batch' } satisfies PrinterReply);
      return;
    }
    if (command.end !== null) print(command.end);
    flush();
    port.close();
  } catch (e) {
    if (!(e instanceof WriteFailed)) throw e;
    port.postMessage({ done: 'write-failed', code: e.code } satisfies PrinterReply);
    port.close();
  }
});
