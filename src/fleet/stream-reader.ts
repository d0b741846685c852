// Reads fleet traces back out of JetStream: every batch of every recording, in stream order,
// each recording's lines through the same reading rules as a trace file (TraceLineReader), so
// a stream and the file of the same recording give the same records. Exactly once: a batch
// whose sequence number the recording already had is dropped (a publisher's re-send); a jump
// in the sequence (retention dropped batches) is an error record, never a silent hole.
import { connect, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import { TraceLineReader, type TraceRecord } from '../trace/trace-reader.js';
import { connectionOptions, type NatsAddress, type NatsSecurity } from './connection.js';
import { ALL_HOSTS_SUBJECT, BATCH_HEADER, hostOfSubject, hostSubject, RECORDING_HEADER, STREAM_NAME } from './subject.js';

export interface RecordingInfo {
  /** The host of the subject (the trace header says the same, unless someone published by hand). */
  host: string;
  recording: string;
  /** How reports and issues name it: nats://SERVER/HOST#RECORDING. */
  name: string;
}

/** Where one recording's records go. push may wait (backpressure); end comes once, after its last batch. */
export interface RecordingSink {
  push(batch: TraceRecord[]): Promise<void> | void;
  end(): void;
}

export interface StreamReadOptions {
  address: NatsAddress;
  security: NatsSecurity;
  /** Keep reading new batches (live) instead of ending at what the stream holds now (analyze). */
  follow: boolean;
  open(info: RecordingInfo): RecordingSink;
  /** A message that is no exetrace batch, or a stream-level problem. */
  onProblem(message: string): void;
  /** Stop reading (follow mode): checked after each message, and by stop(). */
  signal?: AbortSignal;
}

export interface StreamReadSummary {
  recordings: number;
  batches: number;
  /** Batches dropped because the recording already had them. */
  duplicates: number;
}

interface Open {
  info: RecordingInfo;
  sink: RecordingSink;
  reader: TraceLineReader;
  lastSeq: number;
  done: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A clear error for the CLI: no stream, nothing for that host. */
export class StreamReadError extends Error {}

export async function readFleetStream(opts: StreamReadOptions): Promise<StreamReadSummary> {
  const { address } = opts;
  const subject = address.hostname === null ? ALL_HOSTS_SUBJECT : hostSubject(address.hostname);
  let nc: NatsConnection;
  try {
    nc = await connect({ ...connectionOptions(address, opts.security, 'exetrace reader'), maxReconnectAttempts: opts.follow ? -1 : 3 });
  } catch (err) {
    throw new StreamReadError(`cannot connect to ${address.server}: ${(err as Error).message}`);
  }
  const summary: StreamReadSummary = { recordings: 0, batches: 0, duplicates: 0 };
  const open = new Map<string, Open>();
  let messages: ConsumerMessages | null = null;
  const onAbort = (): void => void messages?.close();
  opts.signal?.addEventListener('abort', onAbort);
  try {
    const jsm = await nc.jetstreamManager();
    let held: number;
    try {
      const info = await jsm.streams.info(STREAM_NAME, { subjects_filter: subject });
      held = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    } catch (err) {
      if ((err as { code?: string }).code === '404')
        throw new StreamReadError(`${address.server} has no ${STREAM_NAME} stream: nothing was published there yet`);
      throw err;
    }
    if (held === 0 && !opts.follow) {
      throw new StreamReadError(
        address.hostname === null
          ? `the ${STREAM_NAME} stream holds no traces`
          : `the ${STREAM_NAME} stream holds no trace of host ${JSON.stringify(address.hostname)}`,
      );
    }
    const consumer = await nc.jetstream().consumers.get(STREAM_NAME, { filterSubjects: subject });
    messages = await consumer.consume();
    if (opts.signal?.aborted) return summary;
    for await (const m of messages) {
      await deliver(m, open, opts, summary);
      if (!opts.follow && m.info.pending === 0) break;
      if (opts.signal?.aborted) break;
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    // Recordings still open end here: their records end as a cut-short file would.
    for (const o of open.values()) finish(o);
    await nc.close().catch(() => {});
  }
  return summary;
}

async function deliver(m: JsMsg, open: Map<string, Open>, opts: StreamReadOptions, summary: StreamReadSummary): Promise<void> {
  const recording = m.headers?.get(RECORDING_HEADER) ?? '';
  const seq = Number(m.headers?.get(BATCH_HEADER) ?? 'NaN');
  const host = hostOfSubject(m.subject);
  if (recording === '' || !Number.isSafeInteger(seq) || seq < 1 || host === null) {
    opts.onProblem(`stream message ${m.seq} on ${m.subject} is not an exetrace batch (no ${RECORDING_HEADER}/${BATCH_HEADER} headers)`);
    return;
  }
  let o = open.get(recording);
  if (o === undefined) {
    const info: RecordingInfo = { host, recording, name: `nats://${opts.address.server}/${host}#${recording}` };
    o = { info, sink: opts.open(info), reader: new TraceLineReader(), lastSeq: 0, done: false };
    open.set(recording, o);
    summary.recordings++;
  }
  if (seq <= o.lastSeq || o.done) {
    summary.duplicates++;
    return;
  }
  const out: TraceRecord[] = [];
  if (seq !== o.lastSeq + 1) {
    const missing = o.lastSeq + 1 === seq - 1 ? `batch ${o.lastSeq + 1} is` : `batches ${o.lastSeq + 1}..${seq - 1} are`;
    out.push({
      type: 'error',
      line: o.reader.lines,
      cause: `${missing} missing from the stream (removed by its retention limits?): events lost here`,
      raw: '',
    });
  }
  o.lastSeq = seq;
  summary.batches++;
  let text: string;
  try {
    text = utf8.decode(m.data);
  } catch {
    out.push({ type: 'error', line: o.reader.lines, cause: `batch ${seq} is not valid UTF-8: skipped`, raw: '' });
    await o.sink.push(out);
    return;
  }
  let at = 0;
  for (;;) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) break;
    o.reader.line(text.slice(at, nl), out);
    at = nl + 1;
  }
  if (at < text.length)
    out.push({ type: 'error', line: o.reader.lines + 1, cause: `batch ${seq} ends inside a line: skipped the rest`, raw: text.slice(at, at + 300) });
  const trailer = out.some((r) => r.type === 'trailer');
  if (out.length > 0) await o.sink.push(out);
  if (trailer || o.reader.stopped) finish(o);
}

function finish(o: Open): void {
  if (o.done) return;
  o.done = true;
  const out: TraceRecord[] = [];
  o.reader.end(out);
  if (out.length > 0) void o.sink.push(out);
  o.sink.end();
}
