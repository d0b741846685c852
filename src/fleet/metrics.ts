// `--metrics HOST:PORT`: a TraceConsumer that keeps the counts Prometheus scrapes from
// http://HOST:PORT/metrics (prom-client's exposition format). It runs its own reducer, so
// findings are counted exactly as analyze counts them, whether or not a dashboard is open.
// Counts are kept in plain fields on the hot path and turned into metrics only when scraped.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { FINDING_CLASSES, initialState, reduce, type ModelState } from '../model/index.js';
import { FINDING_KIND } from '../model/finding-classes.js';
import type { ParseIssue, TraceConsumer } from '../trace/consumer.js';
import type { TraceEvent, TraceEventKind } from '../trace/events.js';
import type { TraceHeader, TraceTrailer } from '../trace/trace-format.js';

/** What a publisher reports, when the recording also streams (exetrace_publish_*). */
export interface PublishGauge {
  backlog(): number;
  eventsNotPublished(): number;
}

export class MetricsExporter implements TraceConsumer {
  readonly registry = new Registry();
  private state: ModelState = initialState();
  private readonly events = new Map<TraceEventKind, number>();
  private readonly lost = new Map<string, number>();
  private parseIssues = 0;
  private header: TraceHeader | null = null;
  private attached = false;
  private ended: TraceTrailer['reason'] | null = null;
  private server: Server | null = null;
  publish: PublishGauge | null = null;

  constructor() {
    const r = [this.registry];
    const self = this;
    new Counter({
      name: 'exetrace_events_total',
      help: 'Events recorded, by kind (snapshots and gaps included)',
      labelNames: ['kind'],
      registers: r,
      collect() {
        this.reset();
        for (const [kind, n] of self.events) this.inc({ kind }, n);
      },
    });
    new Counter({
      name: 'exetrace_lost_events_total',
      help: 'Events lost before they reached the recorder, by where the loss was detected (bpftrace ring, decoder sequence check)',
      labelNames: ['source'],
      registers: r,
      collect() {
        this.reset();
        for (const source of ['bpftrace', 'decoder']) this.inc({ source }, self.lost.get(source) ?? 0);
      },
    });
    new Counter({
      name: 'exetrace_findings_total',
      help: 'Findings raised, by class and kind; expected="true" for findings an exception explains (none until exceptions exist)',
      labelNames: ['class', 'kind', 'expected'],
      registers: r,
      collect() {
        this.reset();
        for (const c of FINDING_CLASSES) {
          this.inc({ class: c, kind: FINDING_KIND[c], expected: 'false' }, self.state.findingCounts[c]);
          this.inc({ class: c, kind: FINDING_KIND[c], expected: 'true' }, 0);
        }
      },
    });
    new Counter({
      name: 'exetrace_parse_issues_total',
      help: 'Probe output lines the decoder could not turn into events',
      registers: r,
      collect() {
        this.reset();
        this.inc(self.parseIssues);
      },
    });
    new Gauge({
      name: 'exetrace_live_mms',
      help: 'Address spaces (mms) alive now',
      registers: r,
      collect() {
        this.set(self.state.mms.size);
      },
    });
    new Gauge({
      name: 'exetrace_attached',
      help: '1 while the probes are attached and recording, 0 before attach and after the end',
      registers: r,
      collect() {
        this.set(self.attached && self.ended === null ? 1 : 0);
      },
    });
    new Gauge({
      name: 'exetrace_probe_info',
      help: 'The probe flavor and the recording host (value 1)',
      labelNames: ['flavor', 'hostname', 'kernel'],
      registers: r,
      collect() {
        this.reset();
        if (self.header !== null) this.set({ flavor: self.header.flavor, hostname: self.header.hostname, kernel: self.header.kernelRelease }, 1);
      },
    });
    new Gauge({
      name: 'exetrace_publish_backlog_batches',
      help: 'Batches spooled but not yet acknowledged by JetStream (--publish only)',
      registers: r,
      collect() {
        this.set(self.publish?.backlog() ?? 0);
      },
    });
    new Counter({
      name: 'exetrace_publish_unpublished_events_total',
      help: 'Events the stream will not have because the spool was full (the trace file has them)',
      registers: r,
      collect() {
        this.reset();
        this.inc(self.publish?.eventsNotPublished() ?? 0);
      },
    });
  }

  onHeader(header: TraceHeader): void {
    this.header = header;
  }

  onEvent(event: TraceEvent): void {
    this.events.set(event.kind, (this.events.get(event.kind) ?? 0) + 1);
    if (event.kind === 'gap') this.lost.set(event.source, (this.lost.get(event.source) ?? 0) + event.lost);
    this.state = reduce(this.state, event);
  }

  onIssue(_issue: ParseIssue): void {
    this.parseIssues++;
  }

  onEnd(trailer: TraceTrailer): void {
    this.ended = trailer.reason;
  }

  markAttached(): void {
    this.attached = true;
  }

  /** Serve /metrics; resolves with the bound address (port 0 picks a free one). */
  listen(host: string, port: number): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
      );
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.unref(); // never what keeps the recorder alive
        resolve(server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    const s = this.server;
    this.server = null;
    return new Promise((resolve) => (s === null ? resolve() : s.close(() => resolve())));
  }
}
