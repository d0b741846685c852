// readTraceBatches for a large file: a worker thread (trace-read-worker.ts) reads, parses and
// validates while this thread runs the model, on the second core. The records are the
// in-thread reader's own, passed through event-codec.ts.
import { EventDecoder, type EncodedBatch } from './event-codec.js';
import type { TraceRecord } from './trace-record.js';
import { takeWorkerReading } from './worker-reading.js';

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
  const reading = takeWorkerReading(path);
  const { worker, queue } = reading;
  const decoder = new EventDecoder();
  let finished = false;
  try {
    for (;;) {
      const m = queue.shift();
      if (m === undefined) {
        if (reading.failure !== null) throw reading.failure;
        if (reading.exited) throw new Error('trace-read worker ended before the end of the trace');
        await reading.next();
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
    else if (!reading.exited) await new Promise((resolve) => worker.once('exit', resolve));
  }
}
