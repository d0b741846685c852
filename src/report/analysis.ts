// The analyze report as data: what `exetrace analyze` prints in every format. The JSON writer
// emits this object as is; its schema is documented in docs/analyze-json.md (bump
// ANALYZE_SCHEMA_VERSION on any incompatible change).
import { answersOf, findingsSummary, liveMms, NOTE_CLASSES, requestOf, type AnswerStatus } from '../model/index.js';
import type { EndedMm, EvidenceRef, ExecRequest, FileAnswer, Finding, FindingClass, ModelState, Transition, WalkAnswer } from '../model/state.js';
import type { TraceHeader, TraceTrailer } from '../trace/trace-format.js';

export const ANALYZE_SCHEMA_VERSION = 1;

export interface ReportTransition {
  ts: number;
  cause: Transition['cause'];
  exe: FileAnswer | null;
  pid: number | null;
  tid: number | null;
  note: string | null;
  evidence: EvidenceRef;
}

export interface ReportMm {
  key: string;
  mm: string | null;
  generation: number;
  live: boolean;
  startTs: number;
  endTs: number | null;
  comm: string;
  pids: number[];
  exe: FileAnswer | null;
  /** What was asked for at exec (filename, argv0, interpreter) next to comm and exe. */
  request: ExecRequest;
  /** Live mms only (ended ones keep no maps): the two walks now, and how sure the model is. */
  vmaWalk: WalkAnswer | null;
  legacyWalk: WalkAnswer | null;
  answerStatus: AnswerStatus | null;
  timeline: ReportTransition[];
  timelineDropped: number;
  findingIds: string[];
  gaps: number;
}

export interface ReportFinding {
  id: string;
  class: FindingClass;
  kind: Finding['kind'];
  pid: number;
  pids: number[];
  comm: string;
  mm: string | null;
  mmKey: string;
  ts: number;
  exe: FileAnswer | null;
  vmaWalk: WalkAnswer | null;
  legacyWalk: WalkAnswer | null;
  uncertain: boolean;
  explanation: string;
  evidence: EvidenceRef[];
  related: NonNullable<Finding['related']>;
  request: ExecRequest;
  /** The exception that labels the finding expected, or null (unexpected). */
  expected: string | null;
}

export interface TraceSummary {
  file: string;
  header: Omit<TraceHeader, 'magic'> | null;
  trailer: Omit<TraceTrailer, 'magic'> | null;
  /** No trailer line: recording was cut short (crash, kill -9, disk full), or the file was. */
  truncated: boolean;
  parseErrors: number;
  events: number;
  lostEvents: number;
  gaps: number;
}

export interface AnalyzeReport {
  schemaVersion: number;
  trace: TraceSummary;
  filters: { pid: number | null; comm: string | null };
  counts: {
    total: number;
    mismatch: number;
    note: number;
    uncertain: number;
    /** Findings an exception labelled expected, and the rest. */
    expected: number;
    unexpected: number;
    byClass: Record<FindingClass, number>;
    expectedByClass: Record<FindingClass, number>;
  };
  findings: ReportFinding[];
  mms: ReportMm[];
  dropped: { findings: number; mms: number };
}

export interface ReportInput {
  file: string;
  header: TraceHeader | null;
  trailer: TraceTrailer | null;
  parseErrors: number;
  filters: { pid: number | null; comm: string | null };
}

/** The -p / -c filter: does an mm (or finding) with these pids and comm belong in the report? */
export function mmFilter(filters: ReportInput['filters']): (pids: readonly number[], comm: string) => boolean {
  const { pid, comm } = filters;
  return (pids, c) => (pid === null || pids.includes(pid)) && (comm === null || c === comm);
}

export function reportEndedMm(e: EndedMm): ReportMm {
  return {
    key: e.key,
    mm: e.addr,
    generation: e.generation,
    live: false,
    startTs: e.startTs,
    endTs: e.endTs,
    comm: e.comm,
    pids: e.pids,
    exe: e.exe,
    request: e.request,
    vmaWalk: null,
    legacyWalk: null,
    answerStatus: null,
    timeline: e.timeline.map(reportTransition),
    timelineDropped: e.timelineDropped,
    findingIds: e.findingIds,
    gaps: e.gaps,
  };
}

/**
 * The report from the final state. `ended` are the ended mms to list with the live ones (all
 * sorted by start); analyze instead streams them as they end and passes `streamed` (the mms
 * list then holds only the live ones) and `missedEnded` (ended mms it could not list).
 */
export function buildReport(state: ModelState, input: ReportInput, ended: ReportMm[] | null = null, missedEnded = 0): AnalyzeReport {
  const { pid, comm } = input.filters;
  const keep = mmFilter(input.filters);
  const findings = state.findings.filter((f) => keep(f.pids, f.comm)).map(reportFinding);
  const byClass = Object.fromEntries(Object.keys(state.findingCounts).map((c) => [c, 0])) as Record<FindingClass, number>;
  const expectedByClass = { ...byClass };
  for (const f of findings) {
    byClass[f.class]++;
    if (f.expected !== null) expectedByClass[f.class]++;
  }
  const filtered = pid !== null || comm !== null;
  // Unfiltered counts include findings dropped by the cap; filtered ones can only count what is kept.
  const counts = filtered ? byClass : findingsSummary(state).byClass;
  const expectedCounts = filtered ? expectedByClass : { ...state.expectedCounts };
  const expected = Object.values(expectedCounts).reduce((a, b) => a + b, 0);
  const note = NOTE_CLASSES.reduce((n, c) => n + counts[c], 0);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);

  const mms: ReportMm[] = ended === null ? [] : ended.filter((e) => keep(e.pids, e.comm));
  for (const m of liveMms(state).sort((a, b) => a.startTs - b.startTs)) {
    if (!keep(m.pids, m.comm)) continue;
    const answers = answersOf(m);
    mms.push({
      key: m.key,
      mm: m.addr,
      generation: m.generation,
      live: true,
      startTs: m.startTs,
      endTs: null,
      comm: m.comm,
      pids: [...m.pids],
      exe: answers.exe,
      request: requestOf(m),
      vmaWalk: answers.vmaWalk,
      legacyWalk: answers.legacyWalk,
      answerStatus: answers.status,
      timeline: m.timeline.map(reportTransition),
      timelineDropped: m.timelineDropped,
      findingIds: [...m.findingIds],
      gaps: state.gapSeq - m.gapSeqAtStart,
    });
  }
  if (ended !== null) mms.sort((a, b) => a.startTs - b.startTs);

  const strip = <T extends { magic: unknown }>(o: T | null): Omit<T, 'magic'> | null => {
    if (o === null) return null;
    const { magic: _magic, ...rest } = o;
    return rest;
  };
  return {
    schemaVersion: ANALYZE_SCHEMA_VERSION,
    trace: {
      file: input.file,
      header: strip(input.header),
      trailer: strip(input.trailer),
      truncated: input.trailer === null,
      parseErrors: input.parseErrors,
      events: state.counters.events,
      lostEvents: state.counters.lostEvents,
      gaps: state.gapSeq,
    },
    filters: input.filters,
    counts: {
      total,
      mismatch: total - note,
      note,
      uncertain: findings.filter((f) => f.uncertain).length,
      expected,
      unexpected: total - expected,
      byClass: counts,
      expectedByClass: expectedCounts,
    },
    findings,
    mms,
    dropped: { findings: state.findingsDropped, mms: missedEnded },
  };
}

function reportFinding(f: Finding): ReportFinding {
  return {
    id: f.id,
    class: f.class,
    kind: f.kind,
    pid: f.pid,
    pids: f.pids,
    comm: f.comm,
    mm: f.mm,
    mmKey: f.mmKey,
    ts: f.ts,
    exe: f.exe,
    vmaWalk: f.vmaWalk,
    legacyWalk: f.legacyWalk,
    uncertain: f.uncertain,
    explanation: f.explanation,
    evidence: f.evidence,
    related: f.related ?? [],
    request: f.request,
    expected: f.expected,
  };
}

function reportTransition(t: Transition): ReportTransition {
  const exe = t.exe === null ? null : { path: t.exe.path, pathTruncated: t.exe.pathTruncated, name: t.exe.name, dev: t.exe.dev, ino: t.exe.ino };
  return { ts: t.ts, cause: t.cause, exe, pid: t.pid, tid: t.tid, note: t.note ?? null, evidence: t.evidence };
}
