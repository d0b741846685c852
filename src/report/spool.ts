// A temporary file that holds rendered report text until the report's head can be written:
// analyze learns the counts only at the end but streams every ended mm as it ends, so the mm
// lines wait here instead of in memory. The file is 0600 in a private directory, removed after.
import { once } from 'node:events';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FLUSH_CHARS = 256 * 1024;

export class Spool {
  private readonly dir: string;
  private readonly path: string;
  private fd: number | null;
  private batch: string[] = [];
  private batchChars = 0;
  /** Bytes written to the file so far. */
  bytes = 0;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'exetrace-analyze-'));
    this.path = join(this.dir, 'mms');
    this.fd = openSync(this.path, 'wx', 0o600);
  }

  write(text: string): void {
    this.batch.push(text);
    this.batchChars += text.length;
    if (this.batchChars >= FLUSH_CHARS) this.flush();
  }

  private flush(): void {
    if (this.fd === null || this.batch.length === 0) return;
    const buf = Buffer.from(this.batch.join(''), 'utf8');
    this.batch = [];
    this.batchChars = 0;
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off);
    this.bytes += buf.length;
  }

  /** Copy everything written so far to `out`, honouring backpressure. */
  async copyTo(out: NodeJS.WritableStream): Promise<void> {
    this.flush();
    if (this.bytes === 0) return;
    for await (const chunk of createReadStream(this.path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      if (!out.write(chunk)) await once(out as NodeJS.EventEmitter, 'drain');
    }
  }

  dispose(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
