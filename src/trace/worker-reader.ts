// readTraceBatches for a large file: a worker thread (trace-read-worker.ts) reads, parses and
// validates while this thread runs the model, on the second core. The records are the
// in-thread reader's own, passed through event-codec.ts.
import { statSync } from 'node:fs';
import { EventDecoder, type EncodedBatch } from './event-codec.js';
import { startWorker } from './start-worker.js';
import type { TraceRecord } from './trace-record.js';

/** Below this size a worker's start-up (~30 ms) is more than it saves. */
const WORKER_MIN_BYTES = 4 * 1024 * 1024;
export const WORKER_BATCH_RECORDS = 4096;
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

/**
 * `onBatch` sees each encoded batch before its records are handed out (by then every record of
 * the one before has been consumed, and the batch is the caller's to pass on); it may hold the
 * reading back by returning a promise.
 */
export async function* readTraceBatchesInWorker(
  path: string,
  batchSize: number,
  onBatch?: (batch: EncodedBatch) => Promise<void> | void,
): AsyncGenerator<TraceRecord[]> {
  const worker = startWorker(import.meta.url, 'trace-read-worker', { path });
  const queue: WorkerMessage[] = [];
  let failure: Error | null = null;
  let exited = false;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    wake?.();
    wake = null;
  };
  worker.on('message', (m: WorkerMessage) => {
    queue.push(m);
    notify();
  });
  // A worker that throws is a bug, not a property of the trace: it must not pass for an early end.
  worker.on('error', (e) => {
    failure = e;
    notify();
  });
  worker.on('exit', (code) => {
    exited = true;
    if (code !== 0 && failure === null) failure = new Error(`trace-read worker exited with code ${code}`);
    notify();
  });
  const decoder = new EventDecoder();
  let finished = false;
  try {
    for (;;) {
      const m = queue.shift();
      if (m === undefined) {
        if (failure !== null) throw failure;
        if (exited) throw new Error('trace-read worker ended before the end of the trace');
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if ('done' in m) {
        finished = true;
        return;
      }
      worker.postMessage(1); // a credit: the worker may read one batch further
      const wait = onBatch?.(m.batch);
      if (wait !== undefined) await wait;
      yield* decoder.records(m.batch, batchSize);
    }
  } finally {
    // At the end the worker exits on its own (a profile of it gets written); stopped early, it is stopped.
    if (!finished) await worker.terminate();
    else if (!exited) await new Promise((resolve) => worker.once('exit', resolve));
  }
}
