// The publisher's local spool: every batch is appended to a segment file before it is sent, and
// forgotten only once JetStream acknowledged it. While the server is down or restarting the
// batches pile up here (bounded by maxBytes on disk); the sender resumes with the oldest.
// Segments (files of about SEGMENT_BYTES) are deleted once all their batches are acknowledged,
// so the disk used is the unacknowledged tail plus at most one segment. Files are 0600 in a 0700
// directory: they hold the same paths as the trace.
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A segment is closed and a new one started past this size. */
const SEGMENT_BYTES = 8 * 1024 * 1024;
/** Unsent batches up to this many bytes are also kept in memory; the rest are read back from disk. */
const MEMORY_BYTES = 16 * 1024 * 1024;

interface Segment {
  path: string;
  fd: number;
  size: number;
  /** Batches of this segment not yet acknowledged. */
  pending: number;
}

interface Entry {
  seq: number;
  segment: Segment;
  offset: number;
  length: number;
  /** Trace events in the batch (what the stream lacks if it is never sent). */
  events: number;
  /** Null once dropped from memory (read back from the segment when its turn comes). */
  data: Buffer | null;
}

export class BatchSpool {
  readonly dir: string;
  private readonly queue: Entry[] = [];
  private head = 0;
  private current: Segment | null = null;
  private segments = 0;
  private diskBytes = 0;
  private memoryBytes = 0;
  private closed = false;
  private events = 0;
  /** The first write error (disk full): from then on nothing more is spooled. */
  error: Error | null = null;

  /** `parent`: where the spool directory is made (a fresh 0700 directory inside it). */
  constructor(
    parent: string | null,
    readonly maxBytes: number,
  ) {
    this.dir = mkdtempSync(join(parent ?? tmpdir(), 'exetrace-spool-'));
  }

  /** Batches not yet acknowledged. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Trace events in the batches not yet acknowledged. */
  get pendingEvents(): number {
    return this.events;
  }

  /** Bytes the spool's segments take on disk now. */
  get bytesOnDisk(): number {
    return this.diskBytes;
  }

  /** Spool one batch; false when it does not fit in maxBytes or cannot be written (nothing is kept then). */
  append(seq: number, data: Buffer, events: number): boolean {
    if (this.closed || this.error !== null || this.diskBytes + data.length > this.maxBytes) return false;
    try {
      if (this.current === null || this.current.size >= SEGMENT_BYTES) this.current = this.openSegment();
      const seg = this.current;
      let off = 0;
      while (off < data.length) off += writeSync(seg.fd, data, off, data.length - off, seg.size + off);
      // A long outage: newer batches stay on disk only, and are read back when their turn comes.
      const keep = this.memoryBytes + data.length <= MEMORY_BYTES;
      this.queue.push({ seq, segment: seg, offset: seg.size, length: data.length, events, data: keep ? data : null });
      this.events += events;
      if (keep) this.memoryBytes += data.length;
      seg.size += data.length;
      seg.pending++;
      this.diskBytes += data.length;
      return true;
    } catch (err) {
      this.error = err as Error;
      return false;
    }
  }

  /** The oldest unacknowledged batch, or null. */
  peek(): { seq: number; data: Buffer } | null {
    const e = this.queue[this.head];
    if (e === undefined) return null;
    if (e.data === null) {
      const buf = Buffer.allocUnsafe(e.length);
      let off = 0;
      while (off < e.length) {
        const n = readSync(e.segment.fd, buf, off, e.length - off, e.offset + off);
        if (n === 0) throw new Error(`spool segment ${e.segment.path} is shorter than its index`);
        off += n;
      }
      return { seq: e.seq, data: buf };
    }
    return { seq: e.seq, data: e.data };
  }

  /** The oldest batch was acknowledged by the stream: forget it, and its segment once empty. */
  ack(): void {
    const e = this.queue[this.head];
    if (e === undefined) return;
    this.queue[this.head] = undefined as unknown as Entry;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (e.data !== null) this.memoryBytes -= e.length;
    this.events -= e.events;
    const seg = e.segment;
    seg.pending--;
    if (seg.pending === 0) {
      // Nothing of it is still needed: give the disk back (a fresh segment starts on the next append).
      this.diskBytes -= seg.size;
      closeSync(seg.fd);
      unlinkSync(seg.path);
      if (this.current === seg) this.current = null;
    }
  }

  /** Close the files; delete the directory when nothing is left unsent (or when `force`). */
  close(force = false): void {
    if (!this.closed) this.closeFiles();
    if (force || this.pending === 0) rmSync(this.dir, { recursive: true, force: true });
  }

  private closeFiles(): void {
    this.closed = true;
    const open = new Set<Segment>();
    for (let i = this.head; i < this.queue.length; i++) open.add(this.queue[i]!.segment);
    if (this.current !== null) open.add(this.current);
    for (const seg of open) closeSync(seg.fd);
    this.current = null;
  }

  private openSegment(): Segment {
    const path = join(this.dir, `segment-${String(this.segments++).padStart(6, '0')}.lines`);
    const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    return { path, fd, size: 0, pending: 0 };
  }
}
