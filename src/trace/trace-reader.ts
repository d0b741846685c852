// Streams a recorded trace line by line and validates every line. A bad line becomes an
// error record (line number, cause) and reading goes on; the reader never throws on content.
// This is analyze's hot path: the file is read in large chunks, each chunk's complete lines
// are decoded in one go, and records are handed out in small batches (readTraceBatches).
// A gzip file (recognised by its magic bytes, whatever its name) is decompressed on the way in;
// one cut short (kill -9 of the recorder, a partial copy) is read up to the cut.
import { isAscii, isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { TraceConsumer } from './consumer.js';
import type { TraceEvent } from './events.js';
import { FileDictionary, checkBodyLine, checkHeader, type TraceHeader, type TraceTrailer } from './trace-format.js';
import type { EncodedBatch } from './event-codec.js';
import type { TraceRecord } from './trace-record.js';
import { readTraceBatchesInWorker } from './worker-reader.js';
import { suitsWorker } from './worker-reading.js';

export type { TraceRecord };

/** Lines longer than this are reported and skipped rather than buffered (a hostile file). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** How much of a bad line an error record keeps. */
const RAW_KEEP = 300;
/** Read size: large enough that per-chunk costs vanish, small enough to stay bounded. */
const CHUNK_BYTES = 1024 * 1024;
/** Records per batch handed out (see region). */
const BATCH_RECORDS = 256;
/** Compressed bytes per write into the decompressor (see traceBytes). */
const GZIP_PIECE = 16 * 1024;
const NL = 0x0a;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What the gzip layer saw: set once the file turned out to be compressed, and how it ended. */
interface Compression {
  gzip: boolean;
  /** The zlib error that ended decompression (a cut or corrupt data), or null. */
  error: NodeJS.ErrnoException | null;
  /** Decompressed bytes before that error. */
  bytes: number;
}

const isGzip = (b: Buffer): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * The bytes of the file, gunzipped when it starts with the gzip magic. Open and read errors
 * throw; a zlib error (truncated or corrupt compressed data) ends the bytes and is kept in `c`.
 */
async function* traceBytes(path: string, c: Compression, source?: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const raw = (source ?? (createReadStream(path, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>))[Symbol.asyncIterator]();
  const first = await raw.next();
  if (first.done === true) return;
  const gzip = isGzip(first.value);
  // zlib drops the output of a write that hits corrupt data: small writes keep all but the last piece.
  const pieces = function* (b: Buffer): Generator<Buffer> {
    if (!gzip) yield b;
    else for (let at = 0; at < b.length; at += GZIP_PIECE) yield b.subarray(at, at + GZIP_PIECE);
  };
  const rest = async function* (): AsyncGenerator<Buffer> {
    try {
      yield* pieces(first.value);
      for (let r = await raw.next(); r.done !== true; r = await raw.next()) yield* pieces(r.value);
    } finally {
      await raw.return?.(); // a reader that stops early closes the file
    }
  };
  if (!gzip) {
    yield* rest();
    return;
  }
  c.gzip = true;
  const gunzip = pipeline(rest(), createGunzip({ chunkSize: CHUNK_BYTES }), () => {});
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      c.bytes += chunk.length;
      yield chunk;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (!e.code?.startsWith('Z_')) throw err; // a read error, not the compressed data
    c.error = e;
  }
}

/** The error record for the end of a gzip stream that did not end cleanly. */
function compressionIssue(c: Compression, line: number): TraceRecord {
  const e = c.error!;
  const cause =
    e.code === 'Z_BUF_ERROR'
      ? `truncated: the compressed trace is cut short after ${c.bytes} decompressed bytes (gzip stream ends mid-way); read up to the cut`
      : `the compressed data is corrupt after ${c.bytes} decompressed bytes (${e.message}); read up to there`;
  return e.code === 'Z_BUF_ERROR' ? { type: 'error', line, cause, raw: '', truncation: true } : { type: 'error', line, cause, raw: '' };
}

const clip = (s: string): string => (s.length > RAW_KEEP ? `${s.slice(0, RAW_KEEP)}…` : s);

/** The per-line rules of docs/trace-format.md ("Reading rules"), fed one line at a time. */
class LineParser {
  sawHeader = false;
  trailerLine = 0;
  /** Set when reading must stop: the first line is not a valid header. */
  stopped = false;
  private files: FileDictionary | null = null;

  private fail(out: TraceRecord[], line: number, cause: string, text: string): void {
    out.push({ type: 'error', line, cause, raw: clip(text) });
    if (!this.sawHeader) this.stopped = true;
  }

  oversized(out: TraceRecord[], line: number): void {
    this.fail(out, line, `line longer than ${MAX_LINE_BYTES} bytes`, '');
  }

  badUtf8(out: TraceRecord[], line: number, text: string): void {
    // Before the header this is a binary file: say what it is not.
    this.fail(out, line, this.sawHeader ? 'line is not valid UTF-8' : 'no valid header: not an exetrace trace (not UTF-8 text, nor gzip)', text);
  }

  partial(out: TraceRecord[], line: number, text: string): void {
    out.push({ type: 'error', line, cause: 'partial last line (no newline): the trace was cut short', raw: clip(text), truncation: true });
  }

  line(out: TraceRecord[], line: number, text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      const why = `invalid JSON: ${(err as Error).message}`;
      this.fail(out, line, this.sawHeader ? why : `no valid header: not an exetrace trace (${why})`, text);
      return;
    }
    if (!this.sawHeader) {
      const h = checkHeader(parsed);
      if (!h.ok) {
        this.fail(out, line, `no valid header: ${h.cause}`, text);
        return;
      }
      this.sawHeader = true;
      // Schema 2 has a file dictionary; in schema 1 a dictionary line is an unknown kind.
      if (h.value.schemaVersion >= 2) this.files = new FileDictionary();
      out.push({ type: 'header', header: h.value, line });
      return;
    }
    if (this.trailerLine > 0) {
      out.push({ type: 'error', line, cause: `data after the trailer on line ${this.trailerLine}`, raw: clip(text) });
      return;
    }
    const body = checkBodyLine(parsed, this.files);
    switch (body.type) {
      case 'event':
        out.push({ type: 'event', event: body.event, line });
        break;
      case 'file':
        break; // a dictionary line: trace-level, never a record
      case 'trailer':
        this.trailerLine = line;
        out.push({ type: 'trailer', trailer: body.trailer, line });
        break;
      case 'error':
        out.push({ type: 'error', line, cause: body.cause, raw: clip(text) });
        break;
    }
  }
}

/**
 * The reading rules for a trace that arrives as text lines from elsewhere (a stream, not a file):
 * the same validation and records as readTraceBatches, one complete line at a time.
 */
export class TraceLineReader {
  private readonly parser = new LineParser();
  private lineNo = 0;

  /** Lines handed in so far (the next line's number is this + 1). */
  get lines(): number {
    return this.lineNo;
  }

  /** True once reading must stop (the first line was not a valid header). */
  get stopped(): boolean {
    return this.parser.stopped;
  }

  /** One complete line, without its newline; records are appended to `out`. */
  line(text: string, out: TraceRecord[]): void {
    if (this.parser.stopped) return;
    this.lineNo++;
    if (text.length * 3 > MAX_LINE_BYTES && Buffer.byteLength(text) > MAX_LINE_BYTES) this.parser.oversized(out, this.lineNo);
    else this.parser.line(out, this.lineNo, text);
  }

  /** The end of the input: the errors a file ending here would get (no header, no trailer). */
  end(out: TraceRecord[]): void {
    if (this.parser.stopped) return;
    if (!this.parser.sawHeader) out.push({ type: 'error', line: this.lineNo, cause: 'empty trace: no header', raw: '' });
    else if (this.parser.trailerLine === 0) out.push({ type: 'error', line: this.lineNo, cause: `truncated: no trailer after line ${this.lineNo}`, raw: '' });
  }
}

/**
 * The records of a trace, a batch at a time (one await per batch instead of one per line).
 * The last batch ends with the truncation or read error, if any.
 */
export interface ReadTraceOptions {
  /** Read these bytes instead of opening `path`, which then only names the trace (stdin, a socket, tests). */
  source?: AsyncIterable<Buffer>;
  /**
   * Parse in a worker thread (worker-reader.ts) while the caller works on the records: the
   * default for a large regular file. The records are the same either way.
   */
  worker?: boolean;
  /** With a worker: each encoded batch, before its records (see readTraceBatchesInWorker). */
  onEncodedBatch?: (batch: EncodedBatch) => Promise<void> | void;
}

export async function* readTraceBatches(path: string, options: ReadTraceOptions = {}): AsyncGenerator<TraceRecord[]> {
  if (options.source === undefined && (options.worker ?? suitsWorker(path))) {
    yield* readTraceBatchesInWorker(path, BATCH_RECORDS, options.onEncodedBatch);
    return;
  }
  const parser = new LineParser();
  const compression: Compression = { gzip: false, error: null, bytes: 0 };
  let lineNo = 0;
  // The start of a line that continues in the next chunk (copied: it outlives its chunk).
  let carry: Buffer[] = [];
  let carryLen = 0;
  let oversized = false;

  const addCarry = (piece: Buffer): void => {
    if (oversized) return;
    if (carryLen + piece.length > MAX_LINE_BYTES) {
      oversized = true;
      carry = [];
      carryLen = 0;
    } else if (piece.length > 0) {
      carry.push(Buffer.from(piece));
      carryLen += piece.length;
    }
  };

  /** One complete line given as bytes (the slow path: carried lines and invalid UTF-8). */
  const byteLine = (out: TraceRecord[], buf: Buffer): void => {
    lineNo++;
    let text: string;
    try {
      text = utf8.decode(buf);
    } catch {
      parser.badUtf8(out, lineNo, buf.toString('latin1'));
      return;
    }
    parser.line(out, lineNo, text);
  };

  /**
   * Complete lines [from, to) of a chunk (to: the index of its last '\n'), as batches of at
   * most BATCH_RECORDS records after `first`. Small batches matter: records held across a
   * young-generation GC get copied and promoted, and that cost analyze a fifth of its time.
   */
  function* region(first: TraceRecord[], chunk: Buffer, from: number, to: number): Generator<TraceRecord[]> {
    let out = first;
    // Both checks are fast native scans. ASCII (nearly every trace) decodes as latin1, a plain
    // copy: UTF-8 decoding of the same bytes took 6x longer, a tenth of analyze's time.
    const bytes = chunk.subarray(from, to);
    const text = isAscii(bytes) ? bytes.toString('latin1') : isUtf8(bytes) ? bytes.toString('utf8') : null;
    if (text === null) {
      // Some line in here is not UTF-8: decode line by line so only that one is an error.
      let at = from;
      while (at <= to && !parser.stopped) {
        const nl = chunk.indexOf(NL, at);
        const end = nl < 0 || nl > to ? to : nl;
        byteLine(out, chunk.subarray(at, end));
        at = end + 1;
        if (out.length >= BATCH_RECORDS) {
          yield out;
          out = [];
        }
      }
    } else {
      let at = 0;
      const n = text.length;
      while (at <= n && !parser.stopped) {
        let nl = text.indexOf('\n', at);
        if (nl < 0) nl = n;
        lineNo++;
        parser.line(out, lineNo, text.slice(at, nl));
        at = nl + 1;
        if (out.length >= BATCH_RECORDS) {
          yield out;
          out = [];
        }
      }
    }
    if (out.length > 0) yield out;
  }

  const takeCarried = (out: TraceRecord[]): void => {
    if (oversized) {
      lineNo++;
      oversized = false;
      parser.oversized(out, lineNo);
    } else {
      byteLine(out, carryLen === 0 ? Buffer.alloc(0) : Buffer.concat(carry, carryLen));
    }
    carry = [];
    carryLen = 0;
  };

  try {
    // Open errors (ENOENT, EACCES) surface on the first iteration and land in the catch below.
    for await (const chunk of traceBytes(path, compression, options.source)) {
      const last = chunk.lastIndexOf(NL);
      if (last < 0) {
        addCarry(chunk);
        continue;
      }
      const out: TraceRecord[] = [];
      let from = 0;
      if (carryLen > 0 || oversized) {
        const nl = chunk.indexOf(NL);
        addCarry(chunk.subarray(0, nl));
        takeCarried(out);
        from = nl + 1;
      }
      if (!parser.stopped && last + 1 < chunk.length) addCarry(chunk.subarray(last + 1));
      if (from <= last && !parser.stopped) yield* region(out, chunk, from, last);
      else if (out.length > 0) yield out;
      if (parser.stopped) return;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Only the system's errors (ENOENT, EISDIR, EIO) are the file's: a bug must not pass for one.
    if (typeof e.code !== 'string') throw err;
    yield [{ type: 'error', line: lineNo, cause: `cannot read ${path}: ${e.code} ${e.message}`, raw: '' }];
    return;
  }
  const out: TraceRecord[] = [];
  if (compression.error !== null) out.push(compressionIssue(compression, lineNo));
  if (carryLen > 0 || oversized) {
    lineNo++;
    if (oversized) parser.oversized(out, lineNo);
    else {
      const buf = Buffer.concat(carry, carryLen);
      let text: string;
      try {
        text = utf8.decode(buf);
      } catch {
        text = buf.toString('latin1');
      }
      parser.partial(out, lineNo, text);
    }
  }
  if (parser.stopped) {
    if (out.length > 0) yield out;
    return;
  }
  if (!parser.sawHeader) out.push({ type: 'error', line: lineNo, cause: 'empty trace: no header', raw: '' });
  else if (parser.trailerLine === 0) out.push({ type: 'error', line: lineNo, cause: `truncated: no trailer after line ${lineNo}`, raw: '', truncation: true });
  if (out.length > 0) yield out;
}

export async function* readTrace(path: string, options: ReadTraceOptions = {}): AsyncGenerator<TraceRecord> {
  for await (const batch of readTraceBatches(path, options)) yield* batch;
}

export interface ReplaySummary {
  header: TraceHeader | null;
  /** The file's trailer, or null when the trace was cut short. */
  trailer: TraceTrailer | null;
  events: number;
  issues: number;
  /** True when `stopped()` ended the replay before the end of the file. */
  stoppedEarly: boolean;
}

export interface ReplayOptions {
  /** Records to replay instead of reading `path` again (e.g. after peeking at the first one). */
  records?: AsyncIterable<TraceRecord>;
  /** Awaited before each event reaches the consumer: pacing and pause live here. */
  beforeEvent?: (event: TraceEvent, index: number) => Promise<void> | void;
  /** Checked before each record: true ends the replay without onEnd. */
  stopped?: () => boolean;
  /** Passed to the reader (readTraceBatches): whether a worker reads the file, and each encoded batch when one does. */
  worker?: ReadTraceOptions['worker'];
  onEncodedBatch?: ReadTraceOptions['onEncodedBatch'];
}

/**
 * Drive a consumer from a trace file with the same hook order as a live run. A trace without
 * a trailer still ends with onEnd: a synthesised trailer with reason 'error' says why.
 */
export async function replayTrace(path: string, consumer: TraceConsumer, options: ReplayOptions = {}): Promise<ReplaySummary> {
  const summary: ReplaySummary = { header: null, trailer: null, events: 0, issues: 0, stoppedEarly: false };
  let lostEvents = 0;
  let lastError: string | null = null;
  const { beforeEvent, stopped } = options;
  /** Hand one record to the consumer (after its beforeEvent wait); false ends the replay. */
  const step = (rec: TraceRecord): boolean => {
    switch (rec.type) {
      case 'header':
        summary.header = rec.header;
        consumer.onHeader?.(rec.header);
        break;
      case 'event':
        if (stopped?.()) {
          summary.stoppedEarly = true;
          return false;
        }
        summary.events++;
        if (rec.event.kind === 'gap') lostEvents += rec.event.lost;
        consumer.onEvent(rec.event);
        break;
      case 'error':
        summary.issues++;
        lastError = `${path}:${rec.line}: ${rec.cause}`;
        consumer.onIssue?.({ source: path, line: rec.line, cause: rec.cause, raw: rec.raw });
        break;
      case 'trailer':
        summary.trailer = rec.trailer;
        break;
    }
    return true;
  };
  // Only a hook that returned a promise is awaited: an await per event is a real cost.
  const wait = (rec: TraceRecord): Promise<void> | void =>
    rec.type === 'event' && beforeEvent !== undefined ? beforeEvent(rec.event, summary.events) : undefined;
  if (options.records !== undefined) {
    for await (const rec of options.records) {
      if (stopped?.()) {
        summary.stoppedEarly = true;
        break;
      }
      const w = wait(rec);
      if (w !== undefined) await w;
      if (!step(rec)) break;
    }
  } else {
    outer: for await (const batch of readTraceBatches(path, { worker: options.worker, onEncodedBatch: options.onEncodedBatch })) {
      for (const rec of batch) {
        if (stopped?.()) {
          summary.stoppedEarly = true;
          break outer;
        }
        const w = wait(rec);
        if (w !== undefined) await w;
        if (!step(rec)) break outer;
      }
    }
  }
  // Only a trace whose header was valid reaches consumers' onEnd: without one nothing started.
  if (summary.header !== null && !summary.stoppedEarly) {
    consumer.onEnd?.(
      summary.trailer ?? {
        magic: 'exetrace-trailer',
        endedAt: '', // unknown: the recorder never wrote it
        events: summary.events,
        lostEvents,
        parseIssues: summary.issues,
        reason: 'error',
        error: lastError ?? 'truncated: no trailer',
      },
    );
  }
  return summary;
}
