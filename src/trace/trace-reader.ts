// Streams a recorded trace line by line and validates every line. A bad line becomes an
// error record (line number, cause) and reading goes on; the reader never throws on content.
import { createReadStream } from 'node:fs';
import type { TraceConsumer } from './consumer.js';
import type { TraceEvent } from './events.js';
import { checkBodyLine, checkHeader, type TraceHeader, type TraceTrailer } from './trace-format.js';

export type TraceRecord =
  | { type: 'header'; header: TraceHeader; line: number }
  | { type: 'event'; event: TraceEvent; line: number }
  | { type: 'trailer'; trailer: TraceTrailer; line: number }
  | { type: 'error'; line: number; cause: string; raw: string };

/** Lines longer than this are reported and skipped rather than buffered (a hostile file). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** How much of a bad line an error record keeps. */
const RAW_KEEP = 300;

const utf8 = new TextDecoder('utf-8', { fatal: true });

type RawLine = { line: number; text: string | null; cause: string | null; complete: boolean };

/** Split a byte stream at '\n' without losing track of a last line that has none. */
async function* rawLines(path: string): AsyncGenerator<RawLine> {
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let oversized = false;
  let lineNo = 0;
  const take = (): RawLine => {
    lineNo++;
    const buf = Buffer.concat(pending, pendingLen);
    pending = [];
    pendingLen = 0;
    if (oversized) {
      oversized = false;
      return { line: lineNo, text: null, cause: `line longer than ${MAX_LINE_BYTES} bytes`, complete: true };
    }
    try {
      return { line: lineNo, text: utf8.decode(buf), cause: null, complete: true };
    } catch {
      return { line: lineNo, text: buf.toString('latin1'), cause: 'line is not valid UTF-8', complete: true };
    }
  };
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      const piece = chunk.subarray(from, nl < 0 ? chunk.length : nl);
      if (!oversized) {
        if (pendingLen + piece.length > MAX_LINE_BYTES) {
          oversized = true;
          pending = [];
          pendingLen = 0;
        } else if (piece.length > 0) {
          pending.push(Buffer.from(piece));
          pendingLen += piece.length;
        }
      }
      if (nl < 0) break;
      yield take();
      from = nl + 1;
    }
  }
  if (pendingLen > 0 || oversized) yield { ...take(), complete: false };
}

const clip = (s: string): string => (s.length > RAW_KEEP ? `${s.slice(0, RAW_KEEP)}…` : s);

export async function* readTrace(path: string): AsyncGenerator<TraceRecord> {
  let sawHeader = false;
  let trailerLine = 0;
  let lastLine = 0;
  try {
    // Open errors (ENOENT, EACCES) surface on the first iteration and land in the catch below.
    for await (const raw of rawLines(path)) {
      lastLine = raw.line;
      const text = raw.text ?? '';
      if (!raw.complete) {
        yield { type: 'error', line: raw.line, cause: 'partial last line (no newline): the trace was cut short', raw: clip(text) };
        continue;
      }
      if (raw.cause !== null) {
        yield { type: 'error', line: raw.line, cause: raw.cause, raw: clip(text) };
        if (!sawHeader) return;
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        yield { type: 'error', line: raw.line, cause: `invalid JSON: ${(err as Error).message}`, raw: clip(text) };
        if (!sawHeader) return;
        continue;
      }
      if (!sawHeader) {
        const h = checkHeader(parsed);
        if (!h.ok) {
          yield { type: 'error', line: raw.line, cause: `no valid header: ${h.cause}`, raw: clip(text) };
          return;
        }
        sawHeader = true;
        yield { type: 'header', header: h.value, line: raw.line };
        continue;
      }
      if (trailerLine > 0) {
        yield { type: 'error', line: raw.line, cause: `data after the trailer on line ${trailerLine}`, raw: clip(text) };
        continue;
      }
      const body = checkBodyLine(parsed);
      if (body.type === 'error') yield { type: 'error', line: raw.line, cause: body.cause, raw: clip(text) };
      else if (body.type === 'event') yield { type: 'event', event: body.event, line: raw.line };
      else {
        trailerLine = raw.line;
        yield { type: 'trailer', trailer: body.trailer, line: raw.line };
      }
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    yield { type: 'error', line: lastLine, cause: `cannot read ${path}: ${e.code ?? ''} ${e.message}`.trim(), raw: '' };
    return;
  }
  if (!sawHeader) {
    yield { type: 'error', line: lastLine, cause: 'empty trace: no header', raw: '' };
    return;
  }
  if (trailerLine === 0) yield { type: 'error', line: lastLine, cause: `truncated: no trailer after line ${lastLine}`, raw: '' };
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
}

/**
 * Drive a consumer from a trace file with the same hook order as a live run. A trace without
 * a trailer still ends with onEnd: a synthesised trailer with reason 'error' says why.
 */
export async function replayTrace(path: string, consumer: TraceConsumer, options: ReplayOptions = {}): Promise<ReplaySummary> {
  const summary: ReplaySummary = { header: null, trailer: null, events: 0, issues: 0, stoppedEarly: false };
  let lostEvents = 0;
  let lastError: string | null = null;
  for await (const rec of options.records ?? readTrace(path)) {
    if (options.stopped?.()) {
      summary.stoppedEarly = true;
      break;
    }
    switch (rec.type) {
      case 'header':
        summary.header = rec.header;
        consumer.onHeader?.(rec.header);
        break;
      case 'event':
        await options.beforeEvent?.(rec.event, summary.events);
        if (options.stopped?.()) {
          summary.stoppedEarly = true;
          break;
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
    if (summary.stoppedEarly) break;
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
