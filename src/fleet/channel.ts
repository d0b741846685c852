// A one-reader queue of batches between the stream reader and a recording's consumer: the reader
// pushes (and waits while the consumer is this far behind), the consumer iterates.
export class BatchChannel<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private ended = false;
  private readerWaiting: (() => void) | null = null;
  private writerWaiting: (() => void) | null = null;

  constructor(private readonly highWater = 64) {}

  /** Resolves once the queue has room again. */
  async push(item: T): Promise<void> {
    this.queue.push(item);
    this.readerWaiting?.();
    if (this.queue.length >= this.highWater) await new Promise<void>((resolve) => (this.writerWaiting = resolve));
  }

  end(): void {
    this.ended = true;
    this.readerWaiting?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.queue.shift();
      if (item !== undefined) {
        if (this.queue.length < this.highWater) {
          const w = this.writerWaiting;
          this.writerWaiting = null;
          w?.();
        }
        yield item;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.readerWaiting = resolve));
      this.readerWaiting = null;
    }
  }
}
