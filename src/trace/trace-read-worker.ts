// The worker thread behind readTraceBatches for large files: it reads, parses and validates the
// trace with the in-thread reader and posts the records in encoded batches (event-codec.ts), a
// few ahead of the main thread, which meanwhile runs the model. Credits keep memory bounded:
// the main thread returns one for each batch it has decoded.
import { parentPort, workerData } from 'node:worker_threads';
import { EventEncoder } from './event-codec.js';
import { readTraceBatches } from './trace-reader.js';
import { WORKER_BATCH_RECORDS, WORKER_BATCHES_AHEAD, WORKER_FIRST_BATCH_RECORDS, type WorkerMessage } from './worker-reading.js';

const port = parentPort!;
const { path } = workerData as { path: string };
let credits = WORKER_BATCHES_AHEAD;
let wake: (() => void) | null = null;
port.on('message', () => {
  credits++;
  wake?.();
  wake = null;
});

const encoder = new EventEncoder(WORKER_BATCH_RECORDS);
async function post(): Promise<void> {
  if (encoder.records === 0) return;
  while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
  credits--;
  const batch = encoder.take();
  port.postMessage({ batch } satisfies WorkerMessage, [batch.slots]);
}

// Small batches first: the main thread, booted sooner, starts on the model while this one warms up.
let batchTarget = WORKER_FIRST_BATCH_RECORDS;
for await (const records of readTraceBatches(path, { worker: false })) {
  for (const rec of records) {
    encoder.add(rec);
    if (encoder.records >= batchTarget) {
      await post();
      batchTarget = Math.min(batchTarget * 2, WORKER_BATCH_RECORDS);
    }
  }
}
await post();
port.postMessage({ done: true } satisfies WorkerMessage);
port.close();
