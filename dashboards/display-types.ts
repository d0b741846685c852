// What the dashboard shows, as plain read-only data. Components only ever see these types; the
// one place that knows the model's state shape is the selector in view-model.ts.

export interface MmRow {
  /** Stable identity for selection: the mm pointer (unique while the mm lives). */
  key: string;
  mm: string;
  pids: readonly number[];
  comm: string;
  /** Where /proc/PID/exe points (mm->exe_file), for display. */
  exe: string;
  /** Lifecycle state, e.g. "live", "exec'd", "exited". */
  state: string;
  /** What the pre-2.6.26 / first-r-x-VMA walk would answer, or "" when unknown. */
  vmaWalk: string;
  /** Short class of the most recent finding for this mm, or null when the answers agree. */
  badge: string | null;
  findings: number;
  uncertain: boolean;
  /** Event time of the last change, for the "recent" sort. */
  lastTs: number;
  /** The fleet view's host (live --from); absent for one host. */
  host?: string;
}

export interface FindingRow {
  /** Stable identity (order of discovery). */
  id: string;
  ts: number;
  class: string;
  kind: string;
  pid: number;
  comm: string;
  mm: string;
  exe: string;
  vmaWalk: string;
  legacyWalk: string;
  uncertain: boolean;
  explanation: string;
  /** The fleet view's host (live --from); absent for one host. */
  host?: string;
  /** The exception that labels it expected, or null. */
  expected: string | null;
}

export interface TimelineEntry {
  ts: number;
  text: string;
}

export interface MappingRow {
  start: number;
  end: number;
  perms: string;
  path: string;
}

export interface MmDetail {
  row: MmRow;
  /** What was asked for at exec next to what runs: execve's filename (or script), argv[0], comm. */
  asked: string;
  timeline: readonly TimelineEntry[];
  mappings: readonly MappingRow[];
  findings: readonly FindingRow[];
}

/** Session facts for the header, maintained by the dashboard store (not the model). */
export interface SessionStats {
  source: 'live' | 'replay';
  flavor: string;
  kernel: string;
  /** Events per second of trace time over the last second. */
  eventRate: number;
  events: number;
  lostEvents: number;
  parseIssues: number;
  paused: boolean;
  /** Replay speed as shown ("max", "1x", "10x"); null for live. */
  speed: string | null;
  /** Live: bpftrace's probes are attached (compiling and attaching takes seconds: nothing is traced before). */
  attached: boolean;
  /** Set when the source ended (end of replay, bpftrace exited). */
  ended: string | null;
  /** The header's clock reading, to show event `ts` as wall time; null before the header. */
  clockRef: { monotonicNs: number; wallMs: number } | null;
}

/** Everything the selector derives from the model state for one frame. */
export interface ModelView {
  rows: readonly MmRow[];
  /** Newest last. */
  findings: readonly FindingRow[];
  detail(key: string): MmDetail | null;
  /** The fleet view: one summary line per host, shown in the header. */
  hosts?: readonly string[];
}
