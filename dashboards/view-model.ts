// The selector from the model's state (src/model/state.ts) to the read-only display rows the
// components render. The only dashboard file that knows the model's shape.
import { displayName } from '../src/model/files.js';
import { pget, pvalues } from '../src/model/pmap.js';
import { endedMms } from '../src/model/selectors.js';
import type { EndedMm, Finding, Mapping, MmRecord, ModelState, Transition, TransitionCause } from '../src/model/state.js';
import { vmaWalk } from '../src/model/vma-walk.js';
import { requestOf } from '../src/model/request.js';
import { requestLine } from '../src/report/format.js';
import type { FindingRow, MappingRow, MmDetail, MmRow, ModelView, TimelineEntry } from './display-types.js';

const STATE_LABEL: Record<TransitionCause, string> = {
  exec: "exec'd",
  'fork-inherit': 'forked',
  'prctl-replace': 'replaced',
  teardown: 'ended',
  startup: 'startup',
  'first-seen': 'seen',
};

const fileText = (f: { path: string | null; name: string } | null): string => (f === null ? '' : displayName(f));

function walkText(w: { path: string | null; name: string; address: number } | null): string {
  return w === null ? '' : `${displayName(w)} @${w.address.toString(16)}`;
}

export function findingRow(f: Finding): FindingRow {
  return {
    id: f.id,
    ts: f.ts,
    class: f.class,
    kind: f.kind,
    pid: f.pid,
    comm: f.comm,
    mm: f.mm ?? f.mmKey,
    exe: f.exe === null ? '(none)' : displayName(f.exe),
    vmaWalk: walkText(f.vmaWalk),
    legacyWalk: walkText(f.legacyWalk),
    uncertain: f.uncertain,
    explanation: f.explanation,
    expected: f.expected,
  };
}

// Findings only change when a finding is raised; remember the mapping per array instance.
const findingCache = new WeakMap<readonly Finding[], { rows: FindingRow[]; byId: Map<string, Finding> }>();

function findingIndex(state: ModelState) {
  let hit = findingCache.get(state.findings);
  if (hit === undefined) {
    hit = { rows: state.findings.map(findingRow), byId: new Map(state.findings.map((f) => [f.id, f])) };
    findingCache.set(state.findings, hit);
  }
  return hit;
}

export function selectFindings(state: ModelState): { rows: readonly FindingRow[]; total: number } {
  return { rows: findingIndex(state).rows, total: state.findingsDropped + state.findings.length };
}

function vmaWalkText(mm: MmRecord): string {
  if (mm.mapsKnowledge === 'none') return '?';
  const m = vmaWalk(mm);
  return m === null ? '(none)' : `${displayName(m.file)} @${m.start.toString(16)}`;
}

export function mmRow(state: ModelState, mm: MmRecord): MmRow {
  const byId = findingIndex(state).byId;
  const lastFindingId = mm.findingIds[mm.findingIds.length - 1];
  const last = lastFindingId === undefined ? undefined : byId.get(lastFindingId);
  const lastCause = mm.timeline[mm.timeline.length - 1]?.cause;
  return {
    key: mm.key,
    mm: mm.addr ?? mm.key,
    pids: mm.pids,
    comm: mm.comm,
    exe: mm.exe === null ? (mm.exeLink ?? '(none)') : displayName(mm.exe),
    state: lastCause === undefined ? 'live' : STATE_LABEL[lastCause],
    vmaWalk: vmaWalkText(mm),
    badge: last?.class ?? (mm.findingIds.length > 0 ? 'finding' : null),
    findings: mm.findingIds.length,
    uncertain: last?.uncertain ?? false,
    lastTs: mm.lastTs,
  };
}

export function selectRows(state: ModelState): MmRow[] {
  const rows: MmRow[] = [];
  for (const mm of pvalues(state.mms)) rows.push(mmRow(state, mm));
  return rows;
}

export function timelineEntry(t: Transition): TimelineEntry {
  const who = t.pid === null ? '' : ` pid ${t.pid}${t.tid !== null && t.tid !== t.pid ? `/${t.tid}` : ''}`;
  const exe = t.cause === 'teardown' ? '' : ` exe=${t.exe === null ? '(none)' : displayName(t.exe)}`;
  return { ts: t.ts, text: `${t.cause}${who}${exe}${t.note !== undefined ? ` (${t.note})` : ''}` };
}

function mappingRow(m: Mapping): MappingRow {
  return { start: m.start, end: m.end, perms: m.perms, path: `${fileText(m.file)} [${m.origin}${m.fixed ? ',fixed' : ''}]` };
}

function timelineOf(timeline: readonly Transition[], dropped: number): TimelineEntry[] {
  const entries = timeline.map(timelineEntry);
  if (dropped > 0) entries.unshift({ ts: timeline[0]?.ts ?? 0, text: `(${dropped} earlier transitions not kept)` });
  return entries;
}

function endedDetail(state: ModelState, e: EndedMm): MmDetail {
  const byId = findingIndex(state).byId;
  const findings = e.findingIds.flatMap((id) => {
    const f = byId.get(id);
    return f === undefined ? [] : [findingRow(f)];
  });
  return {
    row: {
      key: e.key,
      mm: e.addr ?? e.key,
      pids: e.pids,
      comm: e.comm,
      exe: e.exe === null ? '(none)' : displayName(e.exe),
      state: 'ended',
      vmaWalk: '',
      badge: findings[findings.length - 1]?.class ?? null,
      findings: findings.length,
      uncertain: e.gaps > 0,
      lastTs: e.endTs,
    },
    asked: requestLine(e.request, e.comm),
    timeline: timelineOf(e.timeline, e.timelineDropped),
    mappings: [],
    findings,
  };
}

/** The detail of a live mm, or of one that ended while the user looked at it. */
export function selectDetail(state: ModelState, key: string): MmDetail | null {
  const mm = pget(state.mms, key);
  if (mm === undefined) {
    // Ended mms are kept oldest-first; search from the newest.
    const ended = endedMms(state);
    for (let i = ended.length - 1; i >= 0; i--) {
      const e = ended[i]!;
      if (e.key === key) return endedDetail(state, e);
    }
    return null;
  }
  const byId = findingIndex(state).byId;
  return {
    row: mmRow(state, mm),
    asked: requestLine(requestOf(mm), mm.comm),
    timeline: timelineOf(mm.timeline, mm.timelineDropped),
    mappings: mm.mappings.map(mappingRow),
    findings: mm.findingIds.flatMap((id) => {
      const f = byId.get(id);
      return f === undefined ? [] : [findingRow(f)];
    }),
  };
}

export function selectView(state: ModelState): ModelView {
  return {
    rows: selectRows(state),
    findings: findingIndex(state).rows,
    detail: (key) => selectDetail(state, key),
  };
}
