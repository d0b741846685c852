// A temporary file that holds rendered report text until the report's head can be written:
// analyze learns the counts only at the end but streams every ended mm as it ends, so the mm
// lines wait here instead of in memory. The file is 0600 in a private directory, removed after.
import { once } from 'node:events';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TextBuffer } from './text-buffer.js';

const BUFFER_BYTES = 1024 * 1024;

export class Spool {
  private readonly dir: string;
  private readonly path: string;
  private fd: number | null;
  private readonly text = new TextBuffer(BUFFER_BYTES);
  /** Bytes written to the file so far. */
  bytes = 0;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'exetrace-analyze-'));
    this.path = join(this.dir, 'mms');
    this.fd = openSync(this.path, 'wx', 0o600);
  }

  write(text: string): void {
    if (this.text.append(text)) return;
    this.flush();
    if (!this.text.append(text)) this.writeOut(Buffer.from(text, 'utf8'));
  }

  // Synchronous on purpose: writes queued to libuv's pool measured slower here, the pool thread
  // competing for the core the trace-read worker uses.
  private flush(): void {
    if (this.text.bytes > 0) this.writeOut(this.text.drain());
  }

  private writeOut(buf: Buffer): void {
    if (this.fd === null) return;
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
