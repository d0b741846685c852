// The pure reducer: (state, event) → state. No I/O, no clock, no randomness, and the input
// state is never mutated: each call copies the top-level object and the records it touches;
// everything else is shared (see pmap.ts). Live tracing, replay and tests all drive this.
import {
  assertNever,
  MAP_FIXED,
  PR_SET_MM_EXE_FILE,
  PR_SET_MM_MAP,
  PROT_EXEC,
  HUGETLBFS_MAGIC,
  TMPFS_MAGIC,
  type ExecBeginEvent,
  type ExecEvent,
  type ExeReadEvent,
  type ExitEvent,
  type ForkEvent,
  type GapEvent,
  type Hex,
  type MmapEvent,
  type MmAttachEvent,
  type MmExitEvent,
  type MprotectEvent,
  type MremapEvent,
  type MunmapEvent,
  type PrctlMmEvent,
  type ProcSnapshotEvent,
  type TraceEvent,
} from '../trace/events.js';
import { classify, type InterpreterTest } from './classify.js';
import { matchException } from './exceptions.js';
import { requestOf } from './request.js';
import { answerOf, walkAnswerOf, basename, fileFromMaps, fileFromRef, fileKey, isFileBacked, sameFile, stripDeleted } from './files.js';
import { explainLoaderExec, makeFinding } from './findings.js';
import { pdelete, pget, pset } from './pmap.js';
import { ringPush } from './ring.js';
import type {
  AddrEntry,
  AddrGeneration,
  EndedMm,
  EvidenceRef,
  EvidenceSource,
  FileId,
  Finding,
  Mapping,
  MmRecord,
  ModelState,
  Transition,
  TransitionCause,
} from './state.js';
import { legacyWalk, vmaWalk } from './vma-walk.js';
import { carve, insertMapping, pageDown, pageUp, permsFromProt, protect, remap } from './vma-set.js';

type Event = TraceEvent & EvidenceSource;
/**
 * A fresh shallow copy of the input state: its own fields may be reassigned, nothing nested
 * mutated — except `counters`, which is copied here and so belongs to this call alone.
 */
type Draft = ModelState;

/** The empty list every new record starts with: shared, as records never mutate their lists. */
const NONE: readonly never[] = Object.freeze([]);

const RECENT_GENERATIONS = 4;
const RECENT_CHANGES = 4;
/** Largest valid user address + 1 on x86_64/arm64 (5-level paging); above it a "ret" is an errno. */
const USER_ADDR_LIMIT = 2 ** 57;

export function reduce(state: ModelState, event: Event): ModelState {
  const d = draftOf(state, event.ts);
  switch (event.kind) {
    case 'exec_begin':
      onExecBegin(d, event);
      break;
    case 'exec':
      onExec(d, event);
      break;
    case 'fork':
      onFork(d, event);
      break;
    case 'mm_attach':
      onMmAttach(d, event);
      break;
    case 'mm_exit':
      onMmExit(d, event);
      break;
    case 'exit':
      onExit(d, event);
      break;
    case 'mmap':
    case 'munmap':
    case 'mremap':
    case 'mprotect':
      onMappingChange(d, event);
      break;
    case 'prctl_mm':
      onPrctl(d, event);
      break;
    case 'exe_read':
      onExeRead(d, event);
      break;
    case 'proc_snapshot':
      onSnapshot(d, event);
      break;
    case 'gap':
      onGap(d, event);
      break;
    default:
      assertNever(event, 'event kind');
  }
  return d;
}

/** Reduce a whole array (tests, benchmarks). */
export function reduceAll(state: ModelState, events: Iterable<Event>): ModelState {
  let s = state;
  for (const e of events) s = reduce(s, e);
  return s;
}

/** An explicit field-by-field copy: one stable object shape keeps this hot path fast in V8. */
function draftOf(s: ModelState, ts: number): Draft {
  const c = s.counters;
  return {
    options: s.options,
    mms: s.mms,
    addrs: s.addrs,
    pidMm: s.pidMm,
    pendingExec: s.pendingExec,
    pendingFork: s.pendingFork,
    interpreters: s.interpreters,
    findings: s.findings,
    findingsDropped: s.findingsDropped,
    findingCounts: s.findingCounts,
    expectedCounts: s.expectedCounts,
    ended: s.ended,
    endedDropped: s.endedDropped,
    endedTotal: s.endedTotal,
    gapSeq: s.gapSeq,
    gaps: s.gaps,
    lastTs: ts > s.lastTs ? ts : s.lastTs,
    counters: {
      events: c.events + 1,
      lateEvents: c.lateEvents,
      unattributedSnapshots: c.unattributedSnapshots,
      staleMappingEvents: c.staleMappingEvents,
      supersededMms: c.supersededMms,
      lostEvents: c.lostEvents,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Evidence and small helpers

// Kind names as constants: a parsed event's `kind` is its own string, and evidence outlives it.
const KIND_NAMES: Readonly<Record<string, TraceEvent['kind']>> = Object.fromEntries(
  (
    [
      'exec_begin',
      'exec',
      'fork',
      'mm_attach',
      'mm_exit',
      'exit',
      'mmap',
      'munmap',
      'mremap',
      'mprotect',
      'prctl_mm',
      'exe_read',
      'proc_snapshot',
      'gap',
    ] as const
  ).map((k) => [k, k]),
);

function ref(e: Event): EvidenceRef {
  const r: EvidenceRef = { kind: KIND_NAMES[e.kind] ?? e.kind, ts: e.ts, pid: e.kind === 'gap' ? null : e.pid };
  if (e.line !== undefined) r.line = e.line;
  return r;
}

/** Pid-keyed maps use the number itself (see pmap.ts). */
function pidKey(pid: number): number {
  return pid;
}

function getMm(d: Draft, key: string | undefined): MmRecord | undefined {
  return key === undefined ? undefined : pget(d.mms, key);
}

function putMm(d: Draft, mm: MmRecord): void {
  d.mms = pset(d.mms, mm.key, mm);
}

/**
 * A copy of an mm record to change a few fields of. Spelled out field by field: an object
 * spread with overrides (`{ ...mm, x }`) of this 28-field record took V8's slow path, ~5 µs.
 */
function patch(mm: MmRecord, p: Partial<MmRecord>): MmRecord {
  const c: MmRecord = {
    key: mm.key,
    addr: mm.addr,
    generation: mm.generation,
    startTs: mm.startTs,
    lastTs: mm.lastTs,
    comm: mm.comm,
    pids: mm.pids,
    tids: mm.tids,
    pidsDropped: mm.pidsDropped,
    tidsDropped: mm.tidsDropped,
    exe: mm.exe,
    execFile: mm.execFile,
    execFilename: mm.execFilename,
    execInterp: mm.execInterp,
    argv0: mm.argv0,
    interpBase: mm.interpBase,
    exeElf: mm.exeElf,
    exeInternal: mm.exeInternal,
    exeOverlayUpper: mm.exeOverlayUpper,
    exeNlink: mm.exeNlink,
    parentExe: mm.parentExe,
    prevExe: mm.prevExe,
    startCode: mm.startCode,
    endCode: mm.endCode,
    timeline: mm.timeline,
    timelineDropped: mm.timelineDropped,
    mappings: mm.mappings,
    mapsKnowledge: mm.mapsKnowledge,
    mapsAsOfTs: mm.mapsAsOfTs,
    lastSnapshot: mm.lastSnapshot,
    exeLink: mm.exeLink,
    recentChanges: mm.recentChanges,
    firstMapped: mm.firstMapped,
    gapSeqAtStart: mm.gapSeqAtStart,
    raised: mm.raised,
    findingIds: mm.findingIds,
  };
  Object.assign(c, p);
  return c;
}

function addCapped(list: readonly number[], value: number, cap: number): { list: readonly number[]; dropped: number } {
  if (list.includes(value)) return { list, dropped: 0 };
  if (list.length >= cap) return { list, dropped: 1 };
  return { list: [...list, value], dropped: 0 };
}

/** Record that pid/tid ran on this mm; comm follows the group leader. */
function withUser(mm: MmRecord, pid: number, tid: number, comm: string | null, cap: number): MmRecord {
  const p = addCapped(mm.pids, pid, cap);
  const t = addCapped(mm.tids, tid, cap);
  const newComm = comm !== null && tid === pid ? comm : mm.comm;
  if (p.list === mm.pids && t.list === mm.tids && p.dropped === 0 && t.dropped === 0 && newComm === mm.comm) return mm;
  return patch(mm, { pids: p.list, tids: t.list, pidsDropped: mm.pidsDropped + p.dropped, tidsDropped: mm.tidsDropped + t.dropped, comm: newComm });
}

function withTransition(mm: MmRecord, t: Transition, cap: number): MmRecord {
  if (mm.timeline.length >= cap) {
    // Keep the first transition (how the mm began) and the most recent ones.
    return patch(mm, { timeline: [mm.timeline[0]!, ...mm.timeline.slice(2), t], timelineDropped: mm.timelineDropped + 1 });
  }
  return patch(mm, { timeline: [...mm.timeline, t] });
}

function transition(e: Event, cause: TransitionCause, exe: FileId | null, note?: string): Transition {
  const t: Transition = {
    ts: e.ts,
    cause,
    exe,
    pid: e.kind === 'gap' ? null : e.pid,
    tid: e.kind === 'gap' ? null : e.tid,
    evidence: ref(e),
  };
  if (note !== undefined) t.note = note;
  return t;
}

// ---------------------------------------------------------------------------------------------
// mm identity: address + generation

type Resolution = { status: 'live'; mm: MmRecord } | { status: 'late' } | { status: 'unknown' };

/** Which generation of `addr` an event at `ts` belongs to. */
function resolveAddr(d: Draft, addr: Hex, ts: number): Resolution {
  const entry = pget(d.addrs, addr);
  if (entry === undefined) return { status: 'unknown' };
  // Newest generation that had started by ts; an older ts belongs to an older generation.
  for (let g: AddrGeneration | null = entry; g !== null; g = g.prev) {
    if (g.startTs > ts) continue;
    if (g.endTs === null) {
      const mm = getMm(d, g.key ?? undefined);
      return mm ? { status: 'live', mm } : { status: 'unknown' };
    }
    return ts <= g.endTs ? { status: 'late' } : { status: 'unknown' };
  }
  // Older than every generation we remember: it belongs to one already dropped.
  return { status: 'late' };
}

/**
 * The live record an mm-bearing event refers to. An address never seen before may belong to a
 * process known only from a start-up snapshot (its mm address was unknown): bind it then.
 */
function mmForEvent(d: Draft, addr: Hex, e: Exclude<Event, GapEvent>, createIfUnknown: boolean): MmRecord | null {
  const r = resolveAddr(d, addr, e.ts);
  if (r.status === 'live') return r.mm;
  if (r.status === 'late') {
    d.counters.lateEvents += 1;
    return null;
  }
  const current = getMm(d, pget(d.pidMm, pidKey(e.pid)));
  if (current !== undefined && current.addr === null) {
    const bound = patch(current, { addr });
    putMm(d, bound);
    registerGeneration(d, addr, bound.key, bound.startTs, 0);
    return bound;
  }
  if (!createIfUnknown) return null;
  const mm = newRecord(d, addr, e, 'first-seen', null);
  d.pidMm = pset(d.pidMm, pidKey(e.pid), mm.key);
  return mm;
}

function registerGeneration(d: Draft, addr: Hex, key: string, startTs: number, generation: number): void {
  const entry = pget(d.addrs, addr);
  const prev = entry === undefined ? null : capped(entry, RECENT_GENERATIONS - 1);
  d.addrs = pset<AddrEntry>(d.addrs, addr, { generation, key, startTs, endTs: null, prev, lastGeneration: Math.max(entry?.lastGeneration ?? 0, generation) });
}

/** A copy of the chain from `g`, at most `depth` generations long (chains are never mutated). */
function capped(g: AddrGeneration | null, depth: number): AddrGeneration | null {
  if (g === null || depth <= 0) return null;
  return { generation: g.generation, key: g.key, startTs: g.startTs, endTs: g.endTs, prev: capped(g.prev, depth - 1) };
}

/** The chain with the generation that has `key` ended at `ts`; the part below it is shared. */
function withEnded(g: AddrGeneration | null, key: string, ts: number): AddrGeneration | null {
  if (g === null) return null;
  // The key is dropped: an ended generation is never looked up by it (memory per address).
  if (g.key === key) return { generation: g.generation, key: null, startTs: g.startTs, endTs: ts, prev: g.prev };
  const prev = withEnded(g.prev, key, ts);
  return prev === g.prev ? g : { generation: g.generation, key: g.key, startTs: g.startTs, endTs: g.endTs, prev };
}

/**
 * A new generation at addr. If the previous one is still live, its teardown was lost or has
 * not arrived yet (another CPU): it is ended here and never merged with the new one.
 * `put` false: the caller stores the record itself on every path (saves a map update).
 */
function newRecord(
  d: Draft,
  addr: Hex | null,
  e: Exclude<Event, GapEvent>,
  cause: TransitionCause,
  exe: FileId | null,
  keyOverride?: string,
  put = true,
): MmRecord {
  let generation = 0;
  if (addr !== null) {
    const entry = pget(d.addrs, addr);
    const last = entry;
    if (last && last.endTs === null) {
      const old = getMm(d, last.key ?? undefined);
      if (old) {
        d.counters.supersededMms += 1;
        endRecord(d, old, e, 'address reused before its teardown was seen');
      }
    }
    generation = (pget(d.addrs, addr)?.lastGeneration ?? 0) + 1;
  }
  const key = keyOverride ?? (addr !== null ? `${addr}#${generation}` : `pid:${e.pid}@${e.ts}`);
  // One list for both when the group leader runs it (lists are never mutated).
  const pids = [e.pid];
  const mm: MmRecord = {
    key,
    addr,
    generation,
    startTs: e.ts,
    lastTs: e.ts,
    comm: e.comm,
    pids,
    tids: e.tid === e.pid ? pids : [e.tid],
    pidsDropped: 0,
    tidsDropped: 0,
    exe,
    execFile: exe,
    execFilename: null,
    execInterp: null,
    argv0: null,
    interpBase: null,
    exeElf: null,
    exeInternal: null,
    exeOverlayUpper: null,
    exeNlink: null,
    parentExe: null,
    prevExe: null,
    startCode: null,
    endCode: null,
    timeline: [transition(e, cause, exe)],
    timelineDropped: 0,
    mappings: NONE,
    mapsKnowledge: 'none',
    mapsAsOfTs: 0,
    lastSnapshot: null,
    exeLink: null,
    recentChanges: NONE,
    firstMapped: null,
    gapSeqAtStart: d.gapSeq,
    raised: NONE,
    findingIds: NONE,
  };
  if (put) putMm(d, mm);
  if (addr !== null) registerGeneration(d, addr, key, e.ts, generation);
  return mm;
}

/** Teardown: summarise, drop from the live state, and unlink its indexes. */
function endRecord(d: Draft, mm0: MmRecord, e: Event, note?: string): void {
  // The record is dropped: only its timeline gets the teardown. Its arrays are never mutated
  // (state is immutable), so the summary shares them instead of copying.
  const mm = mm0;
  const ended = withTransition(mm0, transition(e, 'teardown', null, note), d.options.maxTimeline);
  const gaps = d.gapSeq - mm.gapSeqAtStart;
  const summary: EndedMm = {
    key: mm.key,
    addr: mm.addr,
    generation: mm.generation,
    startTs: mm.startTs,
    endTs: e.ts,
    comm: mm.comm,
    pids: mm.pids as number[],
    exe: answerOf(mm.exe),
    request: requestOf(mm),
    timeline: ended.timeline as Transition[],
    timelineDropped: ended.timelineDropped,
    findingIds: mm.findingIds as string[],
    gaps,
  };
  d.ended = ringPush(d.ended, summary, d.options.maxEndedMms);
  d.endedTotal += 1;
  d.endedDropped = Math.max(0, d.endedTotal - d.options.maxEndedMms);
  // A gap during the mm's life casts doubt on findings made before it too.
  if (gaps > 0 && mm.findingIds.length > 0) {
    const ids = new Set(mm.findingIds);
    d.findings = d.findings.map((f) => (ids.has(f.id) && !f.uncertain ? { ...f, uncertain: true } : f));
  }
  d.mms = pdelete(d.mms, mm.key);
  if (mm.addr !== null) {
    const entry = pget(d.addrs, mm.addr);
    if (entry !== undefined) {
      const ended = withEnded(entry, mm.key, e.ts);
      if (ended !== entry && ended !== null) {
        const next: AddrEntry = {
          generation: ended.generation,
          key: ended.key,
          startTs: ended.startTs,
          endTs: ended.endTs,
          prev: ended.prev,
          lastGeneration: entry.lastGeneration,
        };
        d.addrs = pset(d.addrs, mm.addr, next);
      }
    }
  }
  for (const pid of mm.pids) {
    if (pget(d.pidMm, pidKey(pid)) === mm.key) d.pidMm = pdelete(d.pidMm, pidKey(pid));
  }
}

// ---------------------------------------------------------------------------------------------
// Findings

const noInterpreters: InterpreterTest = () => false;

function interpreterTest(d: Draft): InterpreterTest {
  return d.interpreters.size === 0 ? noInterpreters : (f) => pget(d.interpreters, fileKey(f)) !== undefined;
}

function evaluate(d: Draft, mm0: MmRecord, e: Exclude<Event, GapEvent>): MmRecord {
  if (mm0.exe === null) return mm0; // classify has nothing to say without an exe
  let mm = mm0;
  for (const verdict of classify(mm, interpreterTest(d))) {
    if (mm.raised.includes(verdict.class)) continue;
    mm = raise(d, mm, e, verdict);
  }
  return mm;
}

function raise(d: Draft, mm: MmRecord, e: Exclude<Event, GapEvent>, verdict: Parameters<typeof makeFinding>[1], oldExe?: FileId | null): MmRecord {
  const id = `${mm.key}/${verdict.class}/${mm.findingIds.length}`;
  const pid = mm.pids.includes(e.pid) ? e.pid : (mm.pids[0] ?? e.pid);
  const expected =
    d.options.exceptions.length === 0
      ? null
      : matchException(d.options.exceptions, {
          class: verdict.class,
          exe: mm.exe,
          comm: mm.comm,
          argv0: mm.argv0,
          filename: mm.execFilename,
          parentExe: mm.parentExe,
          prevExe: mm.prevExe,
        });
  const finding: Finding = makeFinding(mm, verdict, { id, pid, ts: e.ts, uncertain: d.gapSeq > mm.gapSeqAtStart, oldExe, expected });
  if (expected !== null) d.expectedCounts = { ...d.expectedCounts, [verdict.class]: d.expectedCounts[verdict.class] + 1 };
  const findings = [...d.findings, finding];
  const over = findings.length - d.options.maxFindings;
  d.findings = over > 0 ? findings.slice(over) : findings;
  d.findingsDropped += Math.max(0, over);
  d.findingCounts = { ...d.findingCounts, [verdict.class]: d.findingCounts[verdict.class] + 1 };
  // exe-replaced can happen more than once per mm; the others are raised once.
  const raised = verdict.class === 'exe-replaced' ? mm.raised : [...mm.raised, verdict.class];
  return patch(mm, { raised, findingIds: [...mm.findingIds, id] });
}

// ---------------------------------------------------------------------------------------------
// Handlers

function onExecBegin(d: Draft, e: ExecBeginEvent): void {
  let oldKey: string | null = null;
  if (e.oldMm !== null) oldKey = mmForEvent(d, e.oldMm, e, false)?.key ?? null;
  oldKey ??= pget(d.pidMm, pidKey(e.pid)) ?? null;
  d.pendingExec = pset(d.pendingExec, pidKey(e.pid), {
    ts: e.ts,
    tid: e.tid,
    oldMmKey: oldKey,
    filename: e.filename,
    interp: e.interp === e.filename ? e.filename : e.interp,
    // Taken now: the old mm's teardown comes before the exec event.
    prevExe: getMm(d, oldKey ?? undefined)?.exe ?? null,
    evidence: ref(e),
  });
}

function onExec(d: Draft, e: ExecEvent): void {
  const pending = pget(d.pendingExec, pidKey(e.pid));
  d.pendingExec = pdelete(d.pendingExec, pidKey(e.pid));
  const exe = fileFromRef(e.exe);
  const note = e.oldTid !== e.pid ? `exec from thread ${e.oldTid}` : undefined;
  // Not stored yet, so still ours alone: filled in place rather than copied.
  const mm = newRecord(d, e.mm, e, 'exec', exe, undefined, false);
  if (note !== undefined) mm.timeline = [transition(e, 'exec', exe, note)];
  const hasText = exe !== null && e.endCode > e.startCode && e.startCode > 0;
  const text: Mapping[] = hasText
    ? [
        {
          start: pageDown(e.startCode),
          end: pageUp(e.endCode),
          perms: 'r-xp',
          offset: 0,
          file: exe,
          origin: 'exec',
          fixed: false,
          evidence: mm.timeline[0]!.evidence,
        },
      ]
    : [];
  // After exec the calling thread becomes the leader: tid == pid.
  mm.tids = mm.pids.length === 1 && mm.pids[0] === e.pid ? mm.pids : [e.pid];
  mm.execFilename = pending?.filename ?? (e.filename !== '' ? e.filename : null);
  mm.execInterp = pending?.interp ?? null;
  mm.argv0 = e.argv0 ?? null;
  // What the kernel says about where the exe lives (absent in traces older than these fields).
  if (e.exeInternalMount !== undefined && exe !== null) mm.exeInternal = e.exeInternalMount && isShmemMagic(e.exeMagic ?? 0);
  if (e.exeOverlayUpper !== undefined && exe !== null) mm.exeOverlayUpper = e.exeOverlayUpper;
  const parent = getMm(d, pget(d.pidMm, pidKey(e.ppid)));
  mm.parentExe = parent?.exe ?? null;
  mm.prevExe = pending?.prevExe ?? null;
  mm.startCode = e.startCode;
  mm.endCode = e.endCode;
  mm.mappings = text;
  mm.mapsKnowledge = hasText ? 'events' : 'none';
  d.pidMm = pset(d.pidMm, pidKey(e.pid), mm.key);
  // Other pids that shared the old mm (a vfork parent) stay on it; this pid has left it.
  putMm(d, evaluate(d, mm, e));
}

function onFork(d: Draft, e: ForkEvent): void {
  const parent = e.parentMm !== null ? mmForEvent(d, e.parentMm, e, false) : getMm(d, pget(d.pidMm, pidKey(e.pid)));
  if (e.sharesMm) {
    if (parent) {
      putMm(d, withUser(parent, e.childPid, e.childTid, null, d.options.maxPidsPerMm));
      d.pidMm = pset(d.pidMm, pidKey(e.childPid), parent.key);
    }
    return;
  }
  // The child's mm arrives with its mm_attach; it may already have (events from other CPUs).
  const childMm = getMm(d, pget(d.pidMm, pidKey(e.childPid)));
  if (childMm && childMm.startTs >= e.ts && childMm.timeline[0]?.cause === 'fork-inherit') {
    if (parent && childMm.exe === null) putMm(d, inheritFrom(childMm, parent));
    return;
  }
  d.pendingFork = pset(d.pendingFork, pidKey(e.childPid), { ts: e.ts, parentKey: parent?.key ?? null, sharesMm: e.sharesMm, evidence: ref(e) });
}

/** memfd's shm mount is tmpfs; MFD_HUGETLB memfds live on an internal hugetlbfs mount. */
function isShmemMagic(magic: number): boolean {
  return magic === TMPFS_MAGIC || magic === HUGETLBFS_MAGIC;
}

/** dup_mmap copies the parent's VMAs and exe_file into the child's mm. */
function inheritFrom(child: MmRecord, parent: MmRecord): MmRecord {
  return patch(child, {
    exe: child.exe ?? parent.exe,
    execFile: parent.execFile ?? child.exe,
    execFilename: parent.execFilename,
    execInterp: parent.execInterp,
    argv0: parent.argv0,
    interpBase: parent.interpBase,
    exeElf: parent.exeElf,
    exeInternal: parent.exeInternal,
    exeOverlayUpper: parent.exeOverlayUpper,
    exeNlink: parent.exeNlink,
    parentExe: parent.exe,
    prevExe: parent.prevExe,
    startCode: parent.startCode,
    endCode: parent.endCode,
    mappings: parent.mappings,
    mapsKnowledge: parent.mapsKnowledge,
    mapsAsOfTs: parent.mapsAsOfTs,
    exeLink: parent.exeLink,
    firstMapped: parent.firstMapped,
  });
}

function onMmAttach(d: Draft, e: MmAttachEvent): void {
  const pending = pget(d.pendingFork, pidKey(e.pid));
  const r = resolveAddr(d, e.mm, e.ts);
  if (r.status === 'late') {
    d.counters.lateEvents += 1;
    return;
  }
  if (r.status === 'live') {
    const live = r.mm;
    // Same mm: a thread (its group is already here) or a CLONE_VM child (vfork) of a user.
    if (live.pids.includes(e.pid) || live.pids.includes(e.ppid) || pending?.sharesMm === true || live.addr === null) {
      putMm(d, withUser(live, e.pid, e.tid, e.comm, d.options.maxPidsPerMm));
      d.pidMm = pset(d.pidMm, pidKey(e.pid), live.key);
      d.pendingFork = pdelete(d.pendingFork, pidKey(e.pid));
      return;
    }
  }
  const parent = getMm(d, pending?.parentKey ?? undefined) ?? getMm(d, pget(d.pidMm, pidKey(e.ppid)));
  const exe = fileFromRef(e.exe) ?? parent?.exe ?? null;
  // Not stored yet, so still ours alone: the timeline is set in place.
  let mm = newRecord(d, e.mm, e, 'fork-inherit', exe, undefined, false);
  mm.timeline = [transition(e, 'fork-inherit', exe, `from pid ${e.ppid}`)];
  if (parent) mm = inheritFrom(mm, parent);
  d.pidMm = pset(d.pidMm, pidKey(e.pid), mm.key);
  d.pendingFork = pdelete(d.pendingFork, pidKey(e.pid));
  putMm(d, evaluate(d, mm, e));
}

function onMmExit(d: Draft, e: MmExitEvent): void {
  const mm = mmForEvent(d, e.mm, e, false);
  if (!mm) return;
  endRecord(d, mm.exe === null ? patch(mm, { exe: fileFromRef(e.exe) }) : mm, e);
}

function onExit(d: Draft, e: ExitEvent): void {
  if (!e.groupDead) return;
  const key = pget(d.pidMm, pidKey(e.pid));
  const mm = getMm(d, key);
  // A start-up record whose address never appeared can't be matched by its mm_exit: end it here.
  if (mm && mm.addr === null && mm.pids.length === 1) endRecord(d, mm, e, 'process exited; mm address never seen');
  d.pidMm = pdelete(d.pidMm, pidKey(e.pid));
  d.pendingExec = pdelete(d.pendingExec, pidKey(e.pid));
  d.pendingFork = pdelete(d.pendingFork, pidKey(e.pid));
}

type MappingEvent = MmapEvent | MunmapEvent | MremapEvent | MprotectEvent;

function onMappingChange(d: Draft, e: MappingEvent): void {
  const mm0 = mmForEvent(d, e.mm, e, true);
  if (!mm0) return;
  let mm = withUser(mm0, e.pid, e.tid, e.comm, d.options.maxPidsPerMm);
  if (e.ts < mm.mapsAsOfTs) {
    // Already reflected in a later snapshot (events from another CPU arrived late).
    d.counters.staleMappingEvents += 1;
    putMm(d, mm);
    return;
  }
  const before = mm.mappings;
  let after = before;
  let range: [number, number] | null = null;
  let range2: [number, number] | null = null;
  switch (e.kind) {
    case 'mmap': {
      if (e.addr < 0 || e.addr >= USER_ADDR_LIMIT) break;
      const start = e.addr;
      const end = e.addr + pageUp(e.len);
      range = [start, end];
      const file = fileFromRef(e.file);
      const tracked = file !== null && ((e.prot & PROT_EXEC) !== 0 || sameFile(file, mm.exe) || sameFile(file, mm.execFile));
      after = tracked
        ? insertMapping(before, {
            start,
            end,
            perms: permsFromProt(e.prot),
            offset: e.pgoff,
            file,
            origin: 'mmap',
            fixed: (e.flags & MAP_FIXED) !== 0,
            evidence: ref(e),
          })
        : carve(before, start, end);
      if (file !== null && (e.prot & PROT_EXEC) !== 0 && mm.firstMapped === null && mm.exe !== null && !sameFile(file, mm.exe)) {
        // ld.so run directly maps the program before any library: for a loader, this is the program.
        mm = patch(mm, { firstMapped: file });
      }
      if (mm.mapsKnowledge === 'none' && tracked) mm = patch(mm, { mapsKnowledge: 'events' });
      break;
    }
    case 'munmap':
      if (e.ret !== 0) break;
      range = [e.addr, e.addr + pageUp(e.len)];
      after = carve(before, range[0], range[1]);
      break;
    case 'mremap':
      if (e.ret < 0 || e.ret >= USER_ADDR_LIMIT) break;
      range = [e.oldAddr, e.oldAddr + pageUp(e.oldLen)];
      range2 = [e.ret, e.ret + pageUp(e.newLen)];
      after = remap(before, e.oldAddr, e.oldLen, e.ret, e.newLen);
      break;
    case 'mprotect':
      if (e.ret !== 0) break;
      range = [e.addr, e.addr + pageUp(e.len)];
      after = protect(before, range[0], range[1], e.prot);
      break;
  }
  if (after !== before) {
    mm = patch(mm, { mappings: after });
    if (touchesExe(before, mm, range) || touchesExe(before, mm, range2)) {
      mm = patch(mm, { recentChanges: [...mm.recentChanges, ref(e)].slice(-RECENT_CHANGES) });
    }
  }
  putMm(d, evaluate(d, mm, e));
}

function touchesExe(maps: readonly Mapping[], mm: MmRecord, range: [number, number] | null): boolean {
  if (range === null) return false;
  return maps.some((m) => m.start < range[1] && m.end > range[0] && (sameFile(m.file, mm.exe) || sameFile(m.file, mm.execFile)));
}

function onPrctl(d: Draft, e: PrctlMmEvent): void {
  if (e.ret !== 0 || (e.subOption !== PR_SET_MM_EXE_FILE && e.subOption !== PR_SET_MM_MAP)) return;
  const mm0 = mmForEvent(d, e.mm, e, true);
  if (!mm0) return;
  const before = fileFromRef(e.exeBefore) ?? mm0.exe;
  const after = fileFromRef(e.exeAfter);
  if (after === null || sameFile(before, after)) return;
  // What was known about where the old exe lives does not hold for the new one: a snapshot tells.
  const unknownExe = { exeLink: null, exeElf: null, exeInternal: null, exeOverlayUpper: null, exeNlink: null };
  let mm: MmRecord = withTransition(patch(mm0, { exe: after, ...unknownExe }), transition(e, 'prctl-replace', after), d.options.maxTimeline);
  mm = raise(d, mm, e, { class: 'exe-replaced', evidence: [ref(e)] }, before);
  putMm(d, evaluate(d, mm, e));
}

function onExeRead(d: Draft, e: ExeReadEvent): void {
  // A successful readlink is the kernel's own answer for the target: it shows " (deleted)".
  if (e.syscall !== 'readlink' && e.syscall !== 'readlinkat') return;
  if (e.answer === null || e.ret <= 0 || e.targetPid === null) return;
  const mm = getMm(d, pget(d.pidMm, pidKey(e.targetPid)));
  if (!mm || mm.exeLink === e.answer || e.ts < mm.startTs) return;
  putMm(d, evaluate(d, patch(mm, { exeLink: e.answer }), e));
}

function onSnapshot(d: Draft, e: ProcSnapshotEvent): void {
  // Kernel threads and zombies have no exe and no maps: nothing to learn. Without the exe's
  // identity (stat failed: the process was exiting) the maps cannot be attributed either.
  if (e.exeLink === null && e.maps.length === 0) return;
  if (e.exeDev === null && e.maps.length === 0) return;
  // Taken between exec_begin and exec: the new image is half mapped (its first segment, no text
  // yet), and no verdict may come from it.
  if (pget(d.pendingExec, pidKey(e.pid)) !== undefined) {
    d.counters.unattributedSnapshots += 1;
    return;
  }
  const snapExe: FileId | null =
    e.exeDev !== null && e.exeIno !== null
      ? { dev: e.exeDev, ino: e.exeIno, path: e.exeLink, pathTruncated: false, name: basename(stripDeleted(e.exeLink ?? '')) }
      : null;
  let mm = getMm(d, pget(d.pidMm, pidKey(e.pid)));
  if (mm && e.ts < mm.startTs) mm = undefined;
  if (!mm) {
    if (snapExe === null) return;
    const key = e.reason === 'startup' ? `pid:${e.pid}@startup` : undefined;
    mm = newRecord(d, null, e, e.reason === 'startup' ? 'startup' : 'first-seen', snapExe, key);
    d.pidMm = pset(d.pidMm, pidKey(e.pid), mm.key);
  }
  if (mm.exe === null && snapExe !== null) mm = patch(mm, { exe: snapExe, execFile: mm.execFile ?? snapExe });
  if (snapExe !== null && !sameFile(snapExe, mm.exe)) {
    // The model and /proc disagree on which exe this is (a missed exec or prctl): don't guess.
    d.counters.unattributedSnapshots += 1;
    return;
  }
  if (e.ts < mm.mapsAsOfTs) {
    d.counters.unattributedSnapshots += 1;
    return;
  }
  const known = mm.mappings;
  const mappings: Mapping[] = [];
  for (const entry of e.maps) {
    if (!isFileBacked(entry)) continue;
    const file = fileFromMaps(entry);
    if (!entry.perms.includes('x') && !sameFile(file, mm.exe) && !sameFile(file, mm.execFile)) continue;
    // Keep what events told us about a mapping the snapshot confirms (origin decides legacy walk).
    const prior = known.find((m) => m.start === entry.start && sameFile(m.file, file));
    mappings.push({
      start: entry.start,
      end: entry.end,
      perms: entry.perms,
      offset: entry.offset,
      file: prior && prior.file.path !== null && file.path === null ? prior.file : file,
      origin: prior?.origin ?? 'snapshot',
      fixed: prior?.fixed ?? false,
      evidence: prior?.evidence ?? ref(e),
    });
  }
  mappings.sort((a, b) => a.start - b.start);
  const interpBase = e.interpBase ?? mm.interpBase;
  learnInterpreter(d, e, interpBase);
  const internal = e.exeMountListed === false && isShmemMagic(e.exeFsMagic ?? 0) ? true : e.exeMountListed === true ? false : null;
  mm = patch(withUser(mm, e.pid, e.pid, e.comm, d.options.maxPidsPerMm), {
    mappings,
    mapsKnowledge: 'snapshot',
    mapsAsOfTs: e.ts,
    lastSnapshot: ref(e),
    exeLink: e.exeLink ?? mm.exeLink,
    interpBase,
    exeElf: e.exeElf ?? mm.exeElf,
    exeInternal: mm.exeInternal ?? internal,
    exeNlink: e.exeNlink ?? mm.exeNlink,
    startCode: mm.startCode ?? e.startCode ?? null,
    endCode: mm.endCode ?? e.endCode ?? null,
  });
  mm = evaluate(d, mm, e);
  refreshAnswers(d, mm, ref(e));
  putMm(d, mm);
}

/**
 * Findings raised before a snapshot (e.g. loader-exec at exec) carry the answers known then;
 * the snapshot is authoritative, so their walk answers and missing details are brought up to date.
 */
function refreshAnswers(d: Draft, mm: MmRecord, snapshotRef: EvidenceRef): void {
  if (mm.findingIds.length === 0) return;
  const ids = new Set(mm.findingIds);
  const walk = walkAnswerOf(vmaWalk(mm));
  const legacy = walkAnswerOf(legacyWalk(mm));
  const verdicts = classify(mm, interpreterTest(d));
  d.findings = d.findings.map((f) => {
    if (!ids.has(f.id) || f.ts > snapshotRef.ts) return f;
    let related = f.related;
    let explanation = f.explanation;
    if (f.class === 'loader-exec' && !related?.some((r) => r.role === 'loaded-program')) {
      const program = verdicts.find((v) => v.class === 'loader-exec')?.related?.find((r) => r.role === 'loaded-program');
      if (program) {
        related = [...(related ?? []), { role: 'loaded-program', file: answerOf(program.file)! }];
        explanation = explainLoaderExec(mm.exe, program.file);
      }
    }
    const evidence = f.evidence.some((r) => r.kind === 'proc_snapshot') ? f.evidence : [...f.evidence, snapshotRef];
    return { ...f, vmaWalk: walk, legacyWalk: legacy, evidence, explanation, ...(related ? { related } : {}) };
  });
}

/**
 * The ELF interpreter, as the kernel itself says: the file mapped at the image's AT_BASE (auxv).
 * The snapshot keeps that mapping whatever its permissions (proc-snapshot.ts: selectMaps).
 */
function learnInterpreter(d: Draft, e: ProcSnapshotEvent, interpBase: number | null): void {
  if (interpBase === null || interpBase === 0) return;
  const entry = e.maps.find((m) => m.start === interpBase && m.offset === 0 && isFileBacked(m));
  if (entry === undefined || (entry.dev === e.exeDev && entry.ino === e.exeIno)) return;
  const f = fileFromMaps(entry);
  const k = fileKey(f);
  if (pget(d.interpreters, k) === undefined) d.interpreters = pset(d.interpreters, k, f);
}

function onGap(d: Draft, e: GapEvent): void {
  d.gapSeq += 1;
  const gaps = [...d.gaps, { ts: e.ts, lost: e.lost, source: e.source }];
  d.gaps = gaps.length > d.options.maxGaps ? gaps.slice(gaps.length - d.options.maxGaps) : gaps;
  d.counters.lostEvents += e.lost;
}
