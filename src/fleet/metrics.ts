// `--metrics HOST:PORT`: a TraceConsumer that keeps the counts Prometheus scrapes from
// http://HOST:PORT/metrics (prom-client's exposition format). It runs its own reducer, so
// findings are counted exactly as analyze counts them, whether or not a dashboard is open.
// Counts are kept in plain fields on the hot path and copied into the metrics only when scraped.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { FINDING_CLASSES, initialState, reduce, type ModelOptions, type ModelState } from '../model/index.js';
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
  private state: ModelState;
  private readonly events = new Map<TraceEventKind, number>();
  private readonly lost = new Map<string, number>();
  private parseIssues = 0;
  private header: TraceHeader | null = null;
  private attached = false;
  private ended: TraceTrailer['reason'] | null = null;
  private server: Server | null = null;

  /** `model` carries the exception rules, so expected findings are labelled as analyze labels them. */
  constructor(model: Partial<ModelOptions> = {}) {
    this.state = initialState(model);
  }
  publish: PublishGauge | null = null;

  private readonly metrics = {
    events: new Counter({
      name: 'exetrace_events_total',
      help: 'Events recorded, by kind (snapshots and gaps included)',
      labelNames: ['kind'],
      registers: [this.registry],
    }),
    lost: new Counter({
      name: 'exetrace_lost_events_total',
      help: 'Events lost before they reached the recorder, by where the loss was detected (bpftrace ring, decoder sequence check)',
      labelNames: ['source'],
      registers: [this.registry],
    }),
    findings: new Counter({
      name: 'exetrace_findings_total',
      help: 'Findings raised, by class and kind; expected="true" for findings an exception explains (docs/exceptions.md)',
      labelNames: ['class', 'kind', 'expected'],
      registers: [this.registry],
    }),
    parseIssues: new Counter({
      name: 'exetrace_parse_issues_total',
      help: 'Probe output lines the decoder could not turn into events',
      registers: [this.registry],
    }),
    liveMms: new Gauge({ name: 'exetrace_live_mms', help: 'Address spaces (mms) alive now', registers: [this.registry] }),
    attached: new Gauge({
      name: 'exetrace_attached',
      help: '1 while the probes are attached and recording, 0 before attach and after the end',
      registers: [this.registry],
    }),
    probe: new Gauge({
      name: 'exetrace_probe_info',
      help: 'The probe flavor and the recording host (value 1)',
      labelNames: ['flavor', 'hostname', 'kernel'],
      registers: [this.registry],
    }),
    backlog: new Gauge({
      name: 'exetrace_publish_backlog_batches',
      help: 'Batches spooled but not yet acknowledged by JetStream (--publish only)',
      registers: [this.registry],
    }),
    unpublished: new Counter({
      name: 'exetrace_publish_unpublished_events_total',
      help: 'Events the stream will not have because the spool was full (the trace file has them)',
      registers: [this.registry],
    }),
  };

  /** Copy the plain counts into the metrics: once per scrape, never per event. */
  private refresh(): void {
    const m = this.metrics;
    for (const c of [m.events, m.lost, m.findings, m.parseIssues, m.unpublished, m.probe]) c.reset();
    for (const [kind, n] of this.events) m.events.inc({ kind }, n);
    for (const source of ['bpftrace', 'decoder']) m.lost.inc({ source }, this.lost.get(source) ?? 0);
    for (const c of FINDING_CLASSES) {
      // Both series exist from the start, so rate() and alerts work before the first finding.
      const expected = this.state.expectedCounts[c];
      m.findings.inc({ class: c, kind: FINDING_KIND[c], expected: 'false' }, this.state.findingCounts[c] - expected);
      m.findings.inc({ class: c, kind: FINDING_KIND[c], expected: 'true' }, expected);
    }
    m.parseIssues.inc(this.parseIssues);
    m.liveMms.set(this.state.mms.size);
    m.attached.set(this.attached && this.ended === null ? 1 : 0);
    if (this.header !== null) m.probe.set({ flavor: this.header.flavor, hostname: this.header.hostname, kernel: this.header.kernelRelease }, 1);
    m.backlog.set(this.publish?.backlog() ?? 0);
    m.unpublished.inc(this.publish?.eventsNotPublished() ?? 0);
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
      this.refresh();
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
