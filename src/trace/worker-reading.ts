// The trace-read worker's start, apart from the decoding (worker-reader.ts) so that a command can
// start it before loading anything heavy: this module loads nothing but worker_threads.
import { statSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import type { EncodedBatch } from './event-codec.js';
import { startWorker } from './start-worker.js';

/** Below this size a worker's start-up (~30 ms) is more than it saves. */
const WORKER_MIN_BYTES = 4 * 1024 * 1024;
export const WORKER_BATCH_RECORDS = 4096;
/** The first batch's size; each next one doubles, up to WORKER_BATCH_RECORDS. */
export const WORKER_FIRST_BATCH_RECORDS = 256;
/** Batches the worker may have posted and not yet had back: memory stays bounded. */
export const WORKER_BATCHES_AHEAD = 4;

export type WorkerMessage = { batch: EncodedBatch } | { done: true };

/** Worth a worker: a regular file of some size (a pipe or a small file is read in-thread). */
export function suitsWorker(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && st.size >= WORKER_MIN_BYTES;
  } catch {
    return false; // the in-thread reader reports why it cannot be read
  }
}

/** A started worker and what it has said so far: listening from the start loses no message. */
class WorkerReading {
  readonly worker: Worker;
  readonly queue: WorkerMessage[] = [];
  failure: Error | null = null;
  exited = false;
  private wake: (() => void) | null = null;

  constructor(path: string) {
    this.worker = startWorker(import.meta.url, 'trace-read-worker', { path });
    this.worker.on('message', (m: WorkerMessage) => {
      this.queue.push(m);
      this.notify();
    });
    // A worker that throws is a bug, not a property of the trace: it must not pass for an early end.
    this.worker.on('error', (e) => {
      this.failure = e;
      this.notify();
    });
    this.worker.on('exit', (code) => {
      this.exited = true;
      if (code !== 0 && this.failure === null) this.failure = new Error(`trace-read worker exited with code ${code}`);
      this.notify();
    });
  }

  next(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  private notify(): void {
    this.wake?.();
    this.wake = null;
  }
}

const prestarted = new Map<string, WorkerReading>();

/**
 * Start reading `path` now, when it suits a worker, for the next readTraceBatchesInWorker of it:
 * a command calls this before loading its heavier modules, so the worker's start-up (~90 ms)
 * overlaps theirs. Never taken, it does not keep the process alive.
 */
export function prestartTraceReading(path: string): void {
  if (prestarted.has(path) || !suitsWorker(path)) return;
  const reading = new WorkerReading(path);
  reading.worker.unref();
  prestarted.set(path, reading);
}

/** The reading prestarted for `path`, or a new one. */
export function takeWorkerReading(path: string): WorkerReading {
  const reading = prestarted.get(path) ?? new WorkerReading(path);
  prestarted.delete(path);
  reading.worker.ref();
  return reading;
}
