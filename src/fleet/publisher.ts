// `--publish nats://…`: a TraceConsumer that streams the trace's lines (the same lines the trace
// file gets, dictionary lines included) into JetStream, batched, one subject per host.
// The hooks only encode and append to a batch; a sealed batch goes to the disk spool, and an
// async sender publishes the spool's oldest batch, one at a time, until JetStream acknowledges
// it. Nothing on the collector's path waits for the network: if the server is down the spool
// grows (bounded) and the sender retries until it is back.
// Exactly once for consumers: each batch carries its recording id and sequence number (headers),
// the Nats-Msg-Id is both (JetStream drops a re-sent batch within its duplicate window), and
// readers drop any batch whose sequence they already have (stream-reader.ts).
import { randomUUID } from 'node:crypto';
import {
  connect,
  DiscardPolicy,
  ErrorCode,
  headers,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConnectionOptions,
  type JetStreamClient,
  type NatsConnection,
} from 'nats';
import type { TraceConsumer } from '../trace/consumer.js';
import type { TraceEvent } from '../trace/events.js';
import type { TraceHeader, TraceTrailer } from '../trace/trace-format.js';
import { TraceEncoder } from '../trace/trace-writer.js';
import { connectionOptions, type NatsAddress, type NatsSecurity } from './connection.js';
import { BatchSpool } from './spool.js';
import { ALL_HOSTS_SUBJECT, BATCH_HEADER, hostSubject, RECORDING_HEADER, STREAM_NAME } from './subject.js';

/** A batch is sealed at this size or this long after its first line, whichever comes first. */
// Larger batches cost the NATS client less per byte (measured: 256 KiB took 2/3 of the CPU of 4 × 64 KiB);
// the server's default max_payload is 1 MiB.
const BATCH_BYTES = 256 * 1024;
const BATCH_MS = 100;
/** One publish waits this long for JetStream's acknowledgement before it is tried again. */
const ACK_TIMEOUT_MS = 5000;
const RETRY_MS = 250;

/** The stream's limits when the publisher has to create it (an existing stream's limits are kept). */
export interface StreamLimits {
  maxBytes: number;
  maxAgeSeconds: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { maxBytes: 10 * 1024 ** 3, maxAgeSeconds: 7 * 24 * 3600 };
/** A re-sent batch within this window is dropped by the server; readers catch any later repeat. */
const DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

export interface PublisherOptions {
  address: NatsAddress;
  security: NatsSecurity;
  /** Where the spool directory is made (default the temp dir) and how big it may grow. */
  spoolParent: string | null;
  spoolMaxBytes: number;
  streamLimits: StreamLimits;
  /** One line about trouble (server down, spool full); the recording goes on. */
  log(message: string): void;
}

export interface PublishStats {
  batches: number;
  acknowledged: number;
  /** Re-sends after a failed or unacknowledged publish. */
  retries: number;
  /** Batches JetStream reported as duplicates (a re-send it had already stored). */
  duplicates: number;
  /** Events the stream will not have: the spool was full (the trace file still has them). */
  eventsNotPublished: number;
}

export class TracePublisher implements TraceConsumer {
  readonly recording = randomUUID();
  readonly stats: PublishStats = { batches: 0, acknowledged: 0, retries: 0, duplicates: 0, eventsNotPublished: 0 };
  private readonly encoder = new TraceEncoder();
  private readonly spool: BatchSpool;
  private subject = '';
  private lines: string[] = [];
  private lineBytes = 0;
  private batchEvents = 0;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  /** Set when the spool could not take a batch: from then on the stream ends there (no trailer). */
  private cut = false;
  private ended = false;
  private closing = false;
  private nc: NatsConnection | null = null;
  private wake: (() => void) | null = null;
  private pump: Promise<void> | null = null;
  private down = false;

  private readonly connectOptions: ConnectionOptions;

  /** Throws when the creds or TLS files cannot be read: better before recording than at the first connect. */
  constructor(private readonly opts: PublisherOptions) {
    this.connectOptions = connectionOptions(opts.address, opts.security, `exetrace ${this.recording}`);
    this.spool = new BatchSpool(opts.spoolParent, opts.spoolMaxBytes);
  }

  /** Where unsent batches wait. */
  get spoolDir(): string {
    return this.spool.dir;
  }

  /** Batches spooled but not yet acknowledged. */
  get backlog(): number {
    return this.spool.pending;
  }

  onHeader(header: TraceHeader): void {
    this.subject = hostSubject(header.hostname);
    this.add(this.encoder.header(header));
    this.seal();
    this.pump = this.run();
  }

  onEvent(event: TraceEvent): void {
    if (this.cut) {
      this.stats.eventsNotPublished++;
      return;
    }
    this.batchEvents++;
    this.add(this.encoder.event(event));
  }

  onEnd(trailer: TraceTrailer): void {
    if (!this.cut) this.add(this.encoder.line(trailer));
    this.seal();
    this.ended = true;
    this.wake?.();
  }

  /**
   * Wait until JetStream has every batch, or `timeoutMs`; then disconnect. Unsent batches stay
   * in the spool directory (returned), which is otherwise removed.
   */
  async close(timeoutMs: number): Promise<{ unsent: number; spoolDir: string | null }> {
    this.seal();
    this.ended = true;
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([this.drained(), deadline]);
    this.closing = true;
    this.wake?.();
    await this.nc?.close().catch(() => {});
    await this.pump?.catch(() => {});
    const unsent = this.spool.pending;
    this.spool.close();
    return { unsent, spoolDir: unsent > 0 ? this.spool.dir : null };
  }

  private async drained(): Promise<void> {
    while (this.spool.pending > 0 && !this.closing) await new Promise((r) => setTimeout(r, 20));
  }

  private add(line: string): void {
    this.lines.push(line);
    this.lineBytes += line.length;
    if (this.lineBytes >= BATCH_BYTES) this.seal();
    else if (this.timer === null) {
      this.timer = setTimeout(() => this.seal(), BATCH_MS);
      this.timer.unref();
    }
  }

  /** Close the batch: to the spool, and tell the sender. */
  private seal(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.lines.length === 0 || this.cut) return;
    const data = Buffer.from(this.lines.join(''), 'utf8');
    const events = this.batchEvents;
    this.batchEvents = 0;
    this.lines = [];
    this.lineBytes = 0;
    if (!this.spool.append(this.seq + 1, data, events)) {
      this.cut = true;
      this.stats.eventsNotPublished += events;
      const why = this.spool.error ? `cannot write the spool (${this.spool.error.message})` : `the spool is full (${this.spool.maxBytes} bytes)`;
      this.opts.log(`publish: ${why}; the stream of this recording stops here (the trace file keeps everything)`);
      return;
    }
    this.seq++;
    this.stats.batches++;
    this.wake?.();
  }

  /** The sender: oldest spooled batch first, one in flight, until acknowledged. */
  private async run(): Promise<void> {
    let streamReady = false;
    // Until the first connection the retrying is ours (a pending connect could not be cancelled);
    // after it, the client reconnects by itself.
    while (this.nc === null) {
      try {
        this.nc = await connect(this.connectOptions);
      } catch (err) {
        if (this.closing) return;
        this.noteDown(`cannot connect to ${this.opts.address.server}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, RETRY_MS * 2));
      }
      if (this.closing) {
        await this.nc?.close();
        return;
      }
    }
    const js: JetStreamClient = this.nc.jetstream();
    while (!this.closing) {
      const next = this.spool.peek();
      if (next === null) {
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      try {
        if (!streamReady) {
          await this.ensureStream();
          streamReady = true;
        }
        const h = headers();
        h.set(RECORDING_HEADER, this.recording);
        h.set(BATCH_HEADER, String(next.seq));
        const ack = await js.publish(this.subject, next.data, {
          msgID: `${this.recording}-${next.seq}`,
          headers: h,
          expect: { streamName: STREAM_NAME },
          timeout: ACK_TIMEOUT_MS,
        });
        if (ack.duplicate) this.stats.duplicates++;
        this.spool.ack();
        this.stats.acknowledged++;
        if (this.down) {
          this.down = false;
          this.opts.log(`publish: ${this.opts.address.server} is back; ${this.spool.pending} spooled batches to send`);
        }
      } catch (err) {
        if (this.closing) break;
        if ((err as { code?: string }).code === ErrorCode.MaxPayloadExceeded) {
          // Retrying cannot help: the stream of this recording ends before this batch.
          this.opts.log(
            `publish: batch ${next.seq} (${next.data.length} bytes) exceeds the server's max_payload; the stream of this recording stops here (the trace file keeps everything)`,
          );
          this.cut = true;
          this.stats.eventsNotPublished += this.spool.pendingEvents;
          return;
        }
        this.stats.retries++;
        streamReady = false; // a server that came back empty needs the stream again
        this.noteDown((err as Error).message);
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private noteDown(why: string): void {
    if (this.down) return;
    this.down = true;
    this.opts.log(`publish: ${why}; spooling in ${this.spool.dir} and retrying`);
  }

  /** Create the stream if it does not exist (limits bound the server's disk); never change one that does. */
  private async ensureStream(): Promise<void> {
    const jsm = await this.nc!.jetstreamManager();
    try {
      await jsm.streams.info(STREAM_NAME);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== '404') throw err;
    }
    const { maxBytes, maxAgeSeconds } = this.opts.streamLimits;
    try {
      await jsm.streams.add({
        name: STREAM_NAME,
        subjects: [ALL_HOSTS_SUBJECT],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        max_bytes: maxBytes,
        max_age: nanos(maxAgeSeconds * 1000),
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      });
    } catch (err) {
      // Another host created it meanwhile.
      if (!/already in use/.test((err as Error).message)) throw err;
    }
  }
}
