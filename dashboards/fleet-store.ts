// `live --from` on a terminal: the dashboard store over a whole fleet. Each host's recording has
// its own reducer (a new recording of a host starts a fresh one); the view puts every host's
// mms in one table with a host column, every host's findings in one feed in wall-clock order,
// and one summary per host in the header. Event times become wall-clock ns (each host's own
// clock reference), so rows and findings of different hosts sort together.
import { initialState, reduce, type ModelState } from '../src/model/index.js';
import type { ParseIssue, TraceConsumer } from '../src/trace/consumer.js';
import type { TraceEvent } from '../src/trace/events.js';
import type { TraceHeader, TraceTrailer } from '../src/trace/trace-format.js';
import { DashboardStore, type ModelEngine, type StoreOptions } from './dashboard-store.js';
import type { FindingRow, MmDetail, ModelView } from './display-types.js';
import type { FleetRecording, FleetSink } from './fleet-sink.js';
import { selectDetail, selectView } from './view-model.js';

export interface HostSlot {
  host: string;
  recording: string;
  header: TraceHeader | null;
  state: ModelState;
  events: number;
  lostEvents: number;
  ended: string | null;
}

/** The hosts, mutated in place; `version` changes with every event so the UI sees a new state. */
export interface FleetState {
  hosts: Map<string, HostSlot>;
  version: number;
}

/** The clock reference that shows wall-clock ns as they are. */
export const WALL_CLOCK_REF = { monotonicNs: 0, wallMs: 0 };
/** Findings the fleet feed keeps (newest). */
const FEED_KEEP = 500;

const toWallNs = (slot: HostSlot, ts: number): number =>
  slot.header === null ? ts : (slot.header.clockRef.wallMs - slot.header.clockRef.monotonicNs / 1e6) * 1e6 + ts;

const SEP = '\u0000';

/** Routes each event to the reducer of the host whose consumer delivered it. */
class FleetEngine implements ModelEngine<FleetState> {
  current: HostSlot | null = null;

  initialState(): FleetState {
    return { hosts: new Map(), version: 0 };
  }

  reduce(state: FleetState, event: TraceEvent): FleetState {
    const slot = this.current;
    if (slot === null) return state;
    slot.state = reduce(slot.state, event);
    slot.events++;
    if (event.kind === 'gap') slot.lostEvents += event.lost;
    return { hosts: state.hosts, version: state.version + 1 };
  }
}

export class FleetStore extends DashboardStore<FleetState> implements FleetSink {
  private readonly router: FleetEngine;

  constructor(opts: StoreOptions) {
    const engine = new FleetEngine();
    super(engine, opts);
    this.router = engine;
  }

  open(r: FleetRecording): TraceConsumer {
    const hosts = this.currentState.hosts;
    const slot: HostSlot = { host: r.host, recording: r.recording, header: null, state: initialState(), events: 0, lostEvents: 0, ended: null };
    // A host's new recording replaces its old one: the fleet view shows each host now.
    hosts.set(r.host, slot);
    return {
      onHeader: (h: TraceHeader) => {
        slot.header = h;
        // The first header says the fleet has something to show (and sets the wall-clock display).
        super.onHeader({ ...h, flavor: h.flavor, kernelRelease: 'fleet', clockRef: WALL_CLOCK_REF });
      },
      onEvent: (e: TraceEvent) => {
        if (hosts.get(r.host) !== slot) return; // superseded by a newer recording of this host
        this.router.current = slot;
        super.onEvent(e);
        this.router.current = null;
      },
      onIssue: (i: ParseIssue) => super.onIssue(i),
      onEnd: (t: TraceTrailer) => {
        slot.ended = t.reason;
        this.flush();
      },
    };
  }

  // The fleet itself ends only when the stream reader stops; hosts end one by one (open's onEnd).
  override onEnd(_t: TraceTrailer): void {}
}

function hostRow(slot: HostSlot, f: FindingRow): FindingRow {
  return { ...f, id: `${slot.host}${SEP}${f.id}`, host: slot.host, ts: toWallNs(slot, f.ts) };
}

function hostDetail(slot: HostSlot, d: MmDetail): MmDetail {
  return {
    row: { ...d.row, key: `${slot.host}${SEP}${d.row.key}`, host: slot.host, lastTs: toWallNs(slot, d.row.lastTs) },
    asked: d.asked,
    timeline: d.timeline.map((t) => ({ ...t, ts: toWallNs(slot, t.ts) })),
    mappings: d.mappings,
    findings: d.findings.map((f) => hostRow(slot, f)),
  };
}

/** One line per host for the header: what it runs and how it is doing. */
export function hostSummaries(state: FleetState): string[] {
  return [...state.hosts.values()].map((s) => {
    const h = s.header;
    const findings = s.state.findingsDropped + s.state.findings.length;
    return `${s.host}: ${h?.flavor ?? '?'} ${h?.kernelRelease ?? '?'}, ${s.events} events, ${s.lostEvents} lost, ${s.state.mms.size} mms, ${findings} findings${s.ended !== null ? `, ended (${s.ended})` : ''}`;
  });
}

export function selectFleetView(state: FleetState): ModelView {
  const slots = [...state.hosts.values()];
  const views = slots.map((s) => ({ slot: s, view: selectView(s.state) }));
  const findings = views.flatMap(({ slot, view }) => view.findings.map((f) => hostRow(slot, f))).sort((a, b) => a.ts - b.ts);
  return {
    rows: views.flatMap(({ slot, view }) =>
      view.rows.map((r) => ({ ...r, key: `${slot.host}${SEP}${r.key}`, host: slot.host, lastTs: toWallNs(slot, r.lastTs) })),
    ),
    findings: findings.slice(Math.max(0, findings.length - FEED_KEEP)),
    detail: (key) => {
      const at = key.indexOf(SEP);
      const slot = state.hosts.get(key.slice(0, at));
      const d = slot === undefined ? null : selectDetail(slot.state, key.slice(at + 1));
      return slot === undefined || d === null ? null : hostDetail(slot, d);
    },
    hosts: hostSummaries(state),
  };
}
