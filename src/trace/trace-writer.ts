// Writes a trace file: header, one JSON line per event, trailer at close. The file is created
// 0600 whatever the umask (it holds every process's paths). Lines are batched briefly and
// written with synchronous writes, and a process 'exit' hook flushes the batch, so events
// already handed to the writer survive a later crash of the collector.
import { closeSync, constants, fchmodSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { ParseIssue, TraceConsumer } from './consumer.js';
import type { TraceEvent } from './events.js';
import type { TraceHeader, TraceTrailer } from './trace-format.js';

export const TRACE_FILE_MODE = 0o600;
/** Flush the batch when it grows past this or after FLUSH_MS, whichever comes first. */
const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 50;

export class TraceWriter implements TraceConsumer {
  readonly path: string;
  private fd: number | null;
  private batch: string[] = [];
  private batchBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly exitHook = (): void => this.flush();
  /** Events written (the trailer's count). */
  events = 0;
  parseIssues = 0;
  lostEvents = 0;
  /** The first write error (disk full, EIO); once set, nothing more is written. */
  error: Error | null = null;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
    process.on('exit', this.exitHook);
  }

  /** Create or truncate `path` with mode 0600. Throws on open failure (nothing recorded yet). */
  static create(path: string): TraceWriter {
    // O_NOFOLLOW: root writes here, a planted symlink must not redirect the trace.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
    const fd = openSync(path, flags, TRACE_FILE_MODE);
    try {
      // The open mode is filtered by umask and ignored for an existing file: force it.
      fchmodSync(fd, TRACE_FILE_MODE);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return new TraceWriter(path, fd);
  }

  onHeader(header: TraceHeader): void {
    this.append(header);
    this.flush(); // a reader of a crashed trace at least learns what it was
  }

  onEvent(event: TraceEvent): void {
    if (event.kind === 'gap') this.lostEvents += event.lost;
    this.events++;
    this.append(event);
  }

  onIssue(_issue: ParseIssue): void {
    this.parseIssues++;
  }

  /** Write the trailer, fsync and close. */
  onEnd(trailer: TraceTrailer): void {
    this.append(trailer);
    this.close();
  }

  /** Push the batch to the kernel (synchronously). */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.fd === null || this.batch.length === 0) return;
    const data = this.batch.join('');
    this.batch = [];
    this.batchBytes = 0;
    if (this.error !== null) return;
    try {
      const buf = Buffer.from(data, 'utf8');
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off);
    } catch (err) {
      this.error = err as Error;
    }
  }

  /** flush, then fsync so the data survives a machine crash too. */
  sync(): void {
    this.flush();
    if (this.fd === null || this.error !== null) return;
    try {
      fsyncSync(this.fd);
    } catch (err) {
      this.error = err as Error;
    }
  }

  close(): void {
    if (this.fd === null) return;
    this.sync();
    try {
      closeSync(this.fd);
    } catch (err) {
      this.error ??= err as Error;
    }
    this.fd = null;
    process.off('exit', this.exitHook);
  }

  get closed(): boolean {
    return this.fd === null;
  }

  private append(value: unknown): void {
    if (this.fd === null) return;
    // JSON.stringify writes lone surrogates (surrogateescape bytes) as \udcXX: lossless.
    const line = `${JSON.stringify(value)}\n`;
    this.batch.push(line);
    this.batchBytes += line.length;
    if (this.batchBytes >= FLUSH_BYTES) this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }
}
