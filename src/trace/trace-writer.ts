// Writes a trace file: header, one JSON line per event, trailer at close. The file is created
// 0600 whatever the umask (it holds every process's paths). Lines are batched briefly and
// written with synchronous writes, and a process 'exit' hook flushes the batch, so events
// already handed to the writer survive a later crash of the collector.
// Schema 2: each file identity is written once, as a dictionary line just before the first
// event that refers to it; events carry `{ref, file}` instead (TraceEncoder).
import { closeSync, constants, fchmodSync, fsyncSync, openSync, writeSync } from 'node:fs';
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
  private readonly encoder = new TraceEncoder();

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

  /** Write the trailer, fsync and close. */
  onEnd(trailer: TraceTrailer): void {
    this.append(this.encoder.line(trailer));
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

  /** Queue whole lines (an event may come with its dictionary lines). */
  private append(line: string): void {
    if (this.fd === null) return;
    this.batch.push(line);
    this.batchBytes += line.length;
    if (this.batchBytes >= FLUSH_BYTES) this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }
}
