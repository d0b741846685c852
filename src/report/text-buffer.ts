// Text gathered for one write: each piece is encoded straight into a buffer. Joining the pieces
// into one string and encoding that cost more than producing them (the analyze spool, the line
// printer: 0.5 s per 100k mms or 1M event lines).

/** A UTF-16 unit never takes more than 3 UTF-8 bytes. */
const MAX_BYTES_PER_UNIT = 3;

export class TextBuffer {
  private buffer: Buffer;
  private used = 0;

  constructor(private readonly capacity: number) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  get bytes(): number {
    return this.used;
  }

  /** False, and nothing appended, when `text` might not fit: take() first (or write it on its own). */
  append(text: string): boolean {
    if (this.used + text.length * MAX_BYTES_PER_UNIT > this.capacity) return false;
    this.used += this.buffer.write(text, this.used);
    return true;
  }

  /** What was appended, in a buffer of its own (a stream may keep it); this one starts empty. */
  take(): Buffer {
    const out = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(this.capacity);
    this.used = 0;
    return out;
  }

  /** What was appended, valid until the next append (for a synchronous write); this one starts empty. */
  drain(): Buffer {
    const out = this.buffer.subarray(0, this.used);
    this.used = 0;
    return out;
  }
}
