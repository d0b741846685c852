// Writes a trace file: header, one JSON line per event, trailer at close. The file is created
// 0600 whatever the umask (it holds every process's paths). Lines are batched briefly and
// written with synchronous writes, and a process 'exit' hook flushes the batch, so events
// already handed to the writer survive a later crash of the collector.
// Compressed (`--out FILE.gz`): one gzip stream, compressed off the main thread by node:zlib,
// with a Z_SYNC_FLUSH at every batch flush, so the file always ends at most one batch interval
// (FLUSH_MS) behind and a kill -9 leaves a readable prefix. A sync flush keeps the dictionary:
// it costs 0.5% in size at 64 KiB batches and 9% at 4 KiB (a quiet host's batch), where separate
// gzip members per batch cost 7-11% and 94-120% (docs/trace-format.md). The price: a crash of the
// collector itself loses the batch in flight, which the 'exit' hook cannot compress synchronously.
// Schema 2: each file identity is written once, as a dictionary line just before the first
// event that refers to it; events carry `{ref, file}` instead (TraceEncoder).
import { once } from 'node:events';
import { closeSync, constants, fchmodSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { constants as zlibConstants, createGzip, type Gzip } from 'node:zlib';
import type { ParseIssue, TraceConsumer } from './consumer.js';
import type { FileRef, TraceEvent } from './events.js';
import { FILE_DICT_KIND, FILE_FIELDS, SCHEMA_VERSION, type CompactFileRef, type FileDictLine, type TraceHeader, type TraceTrailer } from './trace-format.js';

interface Interned {
  id: number;
  name: string;
  path: string | null;
  pathTruncated: boolean;
}

/**
 * Turns events into trace lines. With schema 2 (the default) it interns file refs: O(1) per
 * ref through dev → ino → the few (name, path) variants seen for that inode; memory grows with
 * distinct files only. Schema 1 writes refs inline (for tests and benchmarks of old traces).
 */
export class TraceEncoder {
  private readonly byDev = new Map<number, Map<number, Interned[]>>();
  private nextId = 0;

  constructor(readonly schemaVersion: 1 | 2 = SCHEMA_VERSION as 2) {}

  /** Distinct file identities written so far. */
  get files(): number {
    return this.nextId;
  }

  /** The header line, stamped with this encoder's schema version. */
  header(h: TraceHeader): string {
    return `${JSON.stringify({ ...h, schemaVersion: this.schemaVersion })}\n`;
  }

  /** Any non-event line (the trailer). */
  line(value: unknown): string {
    return `${JSON.stringify(value)}\n`;
  }

  /** The event's line, preceded by a dictionary line for each file it is the first to name. */
  event(e: TraceEvent): string {
    // JSON.stringify writes lone surrogates (surrogateescape bytes) as \udcXX: lossless.
    const fields = this.schemaVersion === 1 ? undefined : FILE_FIELDS[e.kind];
    if (fields === undefined) return `${JSON.stringify(e)}\n`;
    let dict = '';
    const compact: Record<string, unknown> = { ...e };
    for (const name of fields) {
      const ref = compact[name] as FileRef | null;
      if (ref === null) continue;
      let id = this.lookup(ref);
      if (id < 0) {
        id = this.intern(ref);
        const line: FileDictLine = { kind: FILE_DICT_KIND, id, dev: ref.dev, ino: ref.ino, name: ref.name, path: ref.path, pathTruncated: ref.pathTruncated };
        dict += `${JSON.stringify(line)}\n`;
      }
      const c: CompactFileRef = { ref: id, file: ref.file };
      compact[name] = c;
    }
    return `${dict}${JSON.stringify(compact)}\n`;
  }

  private lookup(ref: FileRef): number {
    const variants = this.byDev.get(ref.dev)?.get(ref.ino);
    if (variants === undefined) return -1;
    for (const v of variants) if (v.name === ref.name && v.path === ref.path && v.pathTruncated === ref.pathTruncated) return v.id;
    return -1;
  }

  private intern(ref: FileRef): number {
    let inodes = this.byDev.get(ref.dev);
    if (inodes === undefined) {
      inodes = new Map();
      this.byDev.set(ref.dev, inodes);
    }
    let variants = inodes.get(ref.ino);
    if (variants === undefined) {
      variants = [];
      inodes.set(ref.ino, variants);
    }
    const id = this.nextId++;
    variants.push({ id, name: ref.name, path: ref.path, pathTruncated: ref.pathTruncated });
    return id;
  }
}

export const TRACE_FILE_MODE = 0o600;
/**
 * Flush the batch when it grows past this, or FLUSH_MS after the previous flush, whichever comes
 * first: the first event after a quiet spell goes out at once (once the current read's burst is
 * queued), and a busy stream still gets at most one write per FLUSH_MS.
 */
const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 50;

/** Compression level: the fastest, to stay light on the traced host (`gzip -9` later shrinks it further). */
const GZIP_LEVEL = zlibConstants.Z_BEST_SPEED;

export interface TraceWriterOptions {
  /** Write gzip. Default: when the path ends in `.gz`. */
  gzip?: boolean;
}

export class TraceWriter implements TraceConsumer {
  readonly path: string;
  private fd: number | null;
  /** The compressor, in gzip mode: its output goes to `fd` as it comes. */
  private readonly gzip: Gzip | null;
  private closing: Promise<void> | null = null;
  private batch: string[] = [];
  private batchBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastFlushAt = 0;
  private readonly exitHook = (): void => this.flush();
  /** Events written (the trailer's count). */
  events = 0;
  parseIssues = 0;
  lostEvents = 0;
  /** The first write error (disk full, EIO); once set, nothing more is written. */
  error: Error | null = null;
  private readonly encoder = new TraceEncoder();

  private constructor(path: string, fd: number, gzip: boolean) {
    this.path = path;
    this.fd = fd;
    this.gzip = gzip ? createGzip({ level: GZIP_LEVEL }) : null;
    if (this.gzip !== null) {
      this.gzip.on('data', (chunk: Buffer) => this.writeOut(chunk));
      this.gzip.on('error', (err: Error) => (this.error ??= err));
    }
    process.on('exit', this.exitHook);
  }

  /** Create or truncate `path` with mode 0600. Throws on open failure (nothing recorded yet). */
  static create(path: string, options: TraceWriterOptions = {}): TraceWriter {
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
    return new TraceWriter(path, fd, options.gzip ?? path.endsWith('.gz'));
  }

  onHeader(header: TraceHeader): void {
    this.append(this.encoder.header(header));
    this.flush(); // a reader of a crashed trace at least learns what it was
  }

  onEvent(event: TraceEvent): void {
    if (event.kind === 'gap') this.lostEvents += event.lost;
    this.events++;
    this.append(this.encoder.event(event));
  }

  onIssue(_issue: ParseIssue): void {
    this.parseIssues++;
  }

  /** Write the trailer, then close (see close()). */
  onEnd(trailer: TraceTrailer): void {
    this.append(this.encoder.line(trailer));
    void this.close();
  }

  /** Push the batch to the kernel (synchronously; in gzip mode, to the compressor, with a sync flush). */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.fd === null || this.batch.length === 0) return;
    this.lastFlushAt = Date.now();
    const data = this.batch.join('');
    this.batch = [];
    this.batchBytes = 0;
    if (this.error !== null) return;
    const buf = Buffer.from(data, 'utf8');
    if (this.gzip === null) this.writeOut(buf);
    else {
      this.gzip.write(buf);
      this.gzip.flush(zlibConstants.Z_SYNC_FLUSH);
    }
  }

  private writeOut(buf: Buffer): void {
    if (this.fd === null || this.error !== null) return;
    try {
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off);
    } catch (err) {
      this.error = err as Error;
    }
  }

  /** fsync what has reached the file, so it survives a machine crash too. */
  private fsync(): void {
    if (this.fd === null || this.error !== null) return;
    try {
      fsyncSync(this.fd);
    } catch (err) {
      this.error = err as Error;
    }
  }

  /**
   * Flush, end the gzip stream (in gzip mode), fsync and close. A plain trace is closed when
   * this returns; a compressed one when the promise settles (the compressor's last output).
   * Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    if (this.fd === null) return Promise.resolve();
    this.flush();
    const finish = (): void => {
      this.fsync();
      if (this.fd === null) return;
      try {
        closeSync(this.fd);
      } catch (err) {
        this.error ??= err as Error;
      }
      this.fd = null;
      process.off('exit', this.exitHook);
    };
    const gzip = this.gzip;
    if (gzip === null) {
      finish();
      this.closing = Promise.resolve();
    } else {
      this.closing = (async () => {
        const ended = once(gzip, 'end').catch(() => undefined); // errors land in this.error
        gzip.end();
        await ended;
        finish();
      })();
    }
    return this.closing;
  }

  get closed(): boolean {
    return this.fd === null;
  }

  /** Queue whole lines (an event may come with its dictionary lines). */
  private append(line: string): void {
    if (this.fd === null || this.closing !== null) return;
    this.batch.push(line);
    this.batchBytes += line.length;
    if (this.batchBytes >= FLUSH_BYTES) this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.lastFlushAt + FLUSH_MS - Date.now()));
      this.timer.unref();
    }
  }
}
