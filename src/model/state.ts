// The model's state: what exetrace knows about every mm. This is the contract the dashboard,
// the recorder's summary and the report writers read; every type here is immutable data
// produced by `reduce` (src/model/reduce.ts). Read it through the selectors in selectors.ts.
import type { ElfKind, Hex, TraceEventKind } from '../trace/events.js';
import { emptyPMap, type PMap } from './pmap.js';
import { FINDING_CLASSES, type FindingClass, type FindingKind } from './finding-classes.js';
import { emptyRing, type Ring } from './ring.js';
import type { ExceptionRule } from './exception-rule.js';

/** A file by identity (dev, ino); path and name are for display only, never compared. */
export interface FileId {
  dev: number;
  ino: number;
  /** Full path when known (exec event path, exe link, maps line), else null; when cut at a bound, its known tail. */
  path: string | null;
  /** The path walk stopped at its bound: `path` is only the tail (shown after "…"). */
  pathTruncated: boolean;
  /** Last path component. */
  name: string;
}

/**
 * Where a piece of evidence came from. `line` is the trace file line when the event was read
 * from a file (set by `analyze`), absent for live events.
 */
export interface EvidenceRef {
  kind: TraceEventKind;
  ts: number;
  pid: number | null;
  line?: number;
}

/** What the reducer accepts: a TraceEvent, optionally tagged with its trace file line. */
export interface EvidenceSource {
  line?: number;
}

export type TransitionCause =
  /** exe_file set by exec (a new mm). */
  | 'exec'
  /** A forked child's mm got a copy of the parent's exe_file (dup_mmap). */
  | 'fork-inherit'
  /** prctl(PR_SET_MM_EXE_FILE / PR_SET_MM_MAP) replaced exe_file without exec. */
  | 'prctl-replace'
  /** The mm was torn down (exit_mmap) — or superseded when its address was reused first. */
  | 'teardown'
  /** Known only from a start-up snapshot: the process predates the trace. */
  | 'startup'
  /** First seen through some other event (its creation was not in the trace). */
  | 'first-seen';

export interface Transition {
  ts: number;
  cause: TransitionCause;
  /** exe_file after the transition (null for teardown or when unknown). */
  exe: FileId | null;
  pid: number | null;
  tid: number | null;
  evidence: EvidenceRef;
  /** Short free text, e.g. "from thread 1235", "address reused before teardown was seen". */
  note?: string;
}

/** How the model learnt about a mapping; decides the legacy walk and the decoy rule. */
export type MappingOrigin =
  /** start_code..end_code of the exec event: the kernel mapped it. */
  | 'exec'
  /** An mmap(2) event the model saw. */
  | 'mmap'
  /** Present in a /proc/PID/maps snapshot with no earlier event explaining it. */
  | 'snapshot';

/** One VMA the model tracks: file-backed executable mappings and every mapping of the exe. */
export interface Mapping {
  start: number;
  end: number;
  /** Like /proc/PID/maps: "r-xp". */
  perms: string;
  offset: number;
  file: FileId;
  origin: MappingOrigin;
  /** mmap with MAP_FIXED (only known for origin 'mmap'). */
  fixed: boolean;
  evidence: EvidenceRef;
}

/**
 * How much the model knows about an mm's VMAs. 'events': only exec's text range and mmap
 * events (the interpreter the kernel maps is invisible); 'snapshot': a /proc/PID/maps snapshot
 * has been applied (authoritative at its ts) — verdicts that depend on layout need this.
 */
export type MapsKnowledge = 'none' | 'events' | 'snapshot';

export interface MmRecord {
  /** `<addr>#<generation>`, or `pid:<pid>@startup` for processes known from snapshots only. */
  key: string;
  /** mm_struct address; null until an event names it (startup records). */
  addr: Hex | null;
  /** 1 for the first mm seen at this address, +1 on each reuse; 0 for startup records. */
  generation: number;
  startTs: number;
  lastTs: number;
  comm: string;
  /** Every thread-group id that ran on this mm (capped, see pidsDropped). */
  pids: readonly number[];
  /** Every tid that ran on this mm (capped, see tidsDropped). */
  tids: readonly number[];
  pidsDropped: number;
  tidsDropped: number;
  /** mm->exe_file now. */
  exe: FileId | null;
  /** The file of the exec that created this mm (the legacy walk looks for it); inherited at fork. */
  execFile: FileId | null;
  /** exec_begin's filename and interp (interp ≠ filename for #! scripts). */
  execFilename: string | null;
  execInterp: string | null;
  /** argv[0] of the image (for a #! script: the interpreter, as the kernel rewrote it). */
  argv0: string | null;
  /** AT_BASE: where the kernel mapped this image's ELF interpreter (0: none); from a snapshot. */
  interpBase: number | null;
  /** The exe's ELF structure, from a snapshot (see ElfKind). */
  exeElf: ElfKind | null;
  /** The exe lives on a kernel-internal shmem/hugetlbfs mount (a memfd): from exec or a snapshot. */
  exeInternal: boolean | null;
  /** The exe is an overlayfs file with an upper (writable-layer) copy: from exec. */
  exeOverlayUpper: boolean | null;
  /** st_nlink of the exe at the last snapshot (0: unlinked). */
  exeNlink: number | null;
  /** The exe of the process that started this one (exec's parent, or the fork parent). */
  parentExe: FileId | null;
  /** The exe this pid ran before its exec (what called execve). */
  prevExe: FileId | null;
  startCode: number | null;
  endCode: number | null;
  timeline: readonly Transition[];
  timelineDropped: number;
  /** Known VMAs, sorted by start, non-overlapping. */
  mappings: readonly Mapping[];
  mapsKnowledge: MapsKnowledge;
  /** ts of the last snapshot applied: older mapping events are ignored (they are already in it). */
  mapsAsOfTs: number;
  /** The last snapshot applied, as evidence. */
  lastSnapshot: EvidenceRef | null;
  /** exe link text from the last snapshot or readlink answer (shows " (deleted)", "/memfd:"). */
  exeLink: string | null;
  /** The last mapping-changing events that touched the exe's file (evidence for text-unmapped). */
  recentChanges: readonly EvidenceRef[];
  /** The first executable file the process mapped with mmap(2) (for a loader: the program it loaded). */
  firstMapped: FileId | null;
  /** state.gapSeq when this record started: a larger value now means the mm lived across a gap. */
  gapSeqAtStart: number;
  /** Finding classes already raised for this mm (each at most once, exe-replaced once per change). */
  raised: readonly string[];
  /** ids of this mm's findings in state.findings. */
  findingIds: readonly string[];
}

export { FINDING_CLASSES, type FindingClass, type FindingKind } from './finding-classes.js';

/** One answer to "which file": path for display, (dev, ino) for identity. */
export interface FileAnswer {
  path: string | null;
  pathTruncated: boolean;
  name: string;
  dev: number;
  ino: number;
}

/** A walk's answer also says which VMA it picked. */
export interface WalkAnswer extends FileAnswer {
  address: number;
  perms: string;
}

export interface Finding {
  /** Unique within a state: `<mmKey>/<class>/<n>`. */
  id: string;
  class: FindingClass;
  kind: FindingKind;
  /** The thread group that owned the mm when the verdict was made. */
  pid: number;
  /** Every pid that used the mm (threads' groups, vfork children). */
  pids: number[];
  comm: string;
  mm: Hex | null;
  mmKey: string;
  /** What /proc/PID/exe says: mm->exe_file. */
  exe: FileAnswer | null;
  /** The VMA walk: lowest file-backed executable mapping; null when no maps data says. */
  vmaWalk: WalkAnswer | null;
  /** The pre-2.6.26 walk: first VMA of the exec'd file, null when none remains (or unknown). */
  legacyWalk: WalkAnswer | null;
  ts: number;
  evidence: EvidenceRef[];
  /** A lost-event gap fell inside the mm's life: something the verdict depends on may be missing. */
  uncertain: boolean;
  explanation: string;
  /** What was asked for at exec, next to comm and exe: execve's filename, argv[0], the #! interpreter. */
  request: ExecRequest;
  /** The exception (by name) that says this finding is expected, or null: unexpected. */
  expected: string | null;
  /** Class-specific files: exe-replaced's old/new, loader-exec's program, decoy's mapping. */
  related?: { role: 'old-exe' | 'new-exe' | 'loaded-program' | 'decoy' | 'mapped-as'; file: FileAnswer; address?: number }[];
}

/**
 * What was asked for at exec. `filename` is execve's (e.g. /dev/fd/3 for fexecve and execveat
 * with AT_EMPTY_PATH); `interp` differs from it when the kernel ran an interpreter for it (#!
 * scripts, binfmt_misc), so `filename` is then the script and exe the interpreter.
 */
export interface ExecRequest {
  filename: string | null;
  argv0: string | null;
  interp: string | null;
}

/** What is kept of an mm after teardown: the live record is dropped. */
export interface EndedMm {
  key: string;
  addr: Hex | null;
  generation: number;
  startTs: number;
  endTs: number;
  comm: string;
  pids: number[];
  exe: FileAnswer | null;
  request: ExecRequest;
  timeline: Transition[];
  timelineDropped: number;
  findingIds: string[];
  /** Gaps seen while it lived. */
  gaps: number;
}

export interface GapMark {
  ts: number;
  lost: number;
  source: 'bpftrace' | 'decoder';
}

/**
 * Per generation of one mm address: lets a late event find the generation it belongs to. Each
 * links to the one before it (capped): no array per address, memory per mm.
 */
export interface AddrGeneration {
  generation: number;
  /** The live record's key; null once the generation ended (only a live one is looked up). */
  key: string | null;
  startTs: number;
  endTs: number | null;
  prev: AddrGeneration | null;
}

/** The newest generation at an address, with the highest generation number ever used there. */
export interface AddrEntry extends AddrGeneration {
  lastGeneration: number;
}

export interface PendingExec {
  ts: number;
  tid: number;
  oldMmKey: string | null;
  filename: string;
  interp: string;
  /** The exe of the image that called exec. */
  prevExe: FileId | null;
  evidence: EvidenceRef;
}

export interface PendingFork {
  ts: number;
  parentKey: string | null;
  sharesMm: boolean;
  evidence: EvidenceRef;
}

export interface ModelOptions {
  /** Ended mms kept as summaries (oldest dropped first). */
  maxEndedMms: number;
  /** Findings kept (oldest dropped first). */
  maxFindings: number;
  /** Timeline entries kept per mm. */
  maxTimeline: number;
  /** pids / tids kept per mm. */
  maxPidsPerMm: number;
  /** Gap marks kept. */
  maxGaps: number;
  /** Rules that label findings as expected (src/model/exceptions.ts); none by default. */
  exceptions: readonly ExceptionRule[];
}

export const DEFAULT_OPTIONS: ModelOptions = {
  maxEndedMms: 2000,
  maxFindings: 10_000,
  maxTimeline: 32,
  maxPidsPerMm: 64,
  maxGaps: 1000,
  exceptions: [],
};

export interface ModelCounters {
  events: number;
  /** Events that belonged to an mm generation already ended (out of order) and were ignored. */
  lateEvents: number;
  /** Snapshots that matched no mm consistently (e.g. exe identity differs). */
  unattributedSnapshots: number;
  /** Mapping events older than the mm's last snapshot (already reflected in it). */
  staleMappingEvents: number;
  /** A new mm appeared at a live address before the old one's teardown was seen. */
  supersededMms: number;
  lostEvents: number;
}

export interface ModelState {
  options: ModelOptions;
  /** Live mm records by key. */
  mms: PMap<MmRecord>;
  /** mm address → its generations. */
  addrs: PMap<AddrEntry>;
  /** pid (decimal string) → key of its current mm. */
  pidMm: PMap<string>;
  pendingExec: PMap<PendingExec>;
  pendingFork: PMap<PendingFork>;
  /** Files the kernel mapped as some image's ELF interpreter (at its AT_BASE): "dev:ino" → file. */
  interpreters: PMap<FileId>;
  /** Findings, oldest first (capped; findingsDropped counts the rest). */
  findings: readonly Finding[];
  findingsDropped: number;
  /** Finding counts per class, including dropped ones. */
  findingCounts: Readonly<Record<FindingClass, number>>;
  /** Of those, the ones an exception labelled expected. */
  expectedCounts: Readonly<Record<FindingClass, number>>;
  /**
   * Recently ended mms (the newest maxEndedMms; read with endedMms / endedSince). A driver that
   * streams every ended mm reads endedSince(state, seen) after each event.
   */
  ended: Ring<EndedMm>;
  endedDropped: number;
  endedTotal: number;
  /** Number of gap events so far. */
  gapSeq: number;
  gaps: readonly GapMark[];
  lastTs: number;
  counters: ModelCounters;
}

export function initialState(options: Partial<ModelOptions> = {}): ModelState {
  const counts = Object.fromEntries(FINDING_CLASSES.map((c) => [c, 0])) as Record<FindingClass, number>;
  return {
    options: { ...DEFAULT_OPTIONS, ...options },
    mms: emptyPMap(),
    addrs: emptyPMap(),
    pidMm: emptyPMap(),
    pendingExec: emptyPMap(),
    pendingFork: emptyPMap(),
    interpreters: emptyPMap(),
    findings: [],
    findingsDropped: 0,
    findingCounts: counts,
    expectedCounts: { ...counts },
    ended: emptyRing(),
    endedDropped: 0,
    endedTotal: 0,
    gapSeq: 0,
    gaps: [],
    lastTs: 0,
    counters: { events: 0, lateEvents: 0, unattributedSnapshots: 0, staleMappingEvents: 0, supersededMms: 0, lostEvents: 0 },
  };
}
