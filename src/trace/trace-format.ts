// The recorded trace: JSON lines, a header first, then one TraceEvent per line, then a trailer.
// Documented in docs/trace-format.md; bump SCHEMA_VERSION on any incompatible change.
// The validators here never trust the file: every field of every line is checked by kind.
import type { TraceEvent, TraceEventKind } from './events.js';
import { EXE_READ_SYSCALLS, SNAPSHOT_REASONS } from './events.js';

export const SCHEMA_VERSION = 1;
export const TRACE_MAGIC = 'exetrace-trace';
export const TRAILER_MAGIC = 'exetrace-trailer';

export type Flavor = 'tracepoint' | 'kprobe' | 'kfunc';
export const FLAVORS: readonly Flavor[] = ['tracepoint', 'kprobe', 'kfunc'];

export interface TraceHeader {
  magic: typeof TRACE_MAGIC;
  schemaVersion: number;
  toolVersion: string;
  kernelRelease: string;
  bpftraceVersion: string;
  flavor: Flavor;
  hostname: string;
  /** ISO-8601 wall time when recording started. */
  startedAt: string;
  /** One simultaneous reading of both clocks, to turn event `ts` (CLOCK_MONOTONIC ns) into wall time. */
  clockRef: { monotonicNs: number; wallMs: number };
  /** The filters in force, so a reader knows what the trace cannot contain. */
  filters: { pid: number | null; comm: string | null };
}

/** The last line of a complete trace. A trace without it was cut short (crash, kill -9, disk full). */
export interface TraceTrailer {
  magic: typeof TRAILER_MAGIC;
  endedAt: string;
  events: number;
  lostEvents: number;
  parseIssues: number;
  /** Why recording ended: duration elapsed, a signal, or bpftrace exiting on its own. */
  reason: 'duration' | 'signal' | 'bpftrace-exited' | 'error';
  error: string | null;
  /** Snapshots the recorder skipped because of its rate limit (optional: added in 0.1). */
  skippedSnapshots?: number;
  /** Events that arrived without some of their string parts (optional, schema 2). */
  incompleteEvents?: number;
  /** bpftrace's own lost_events total: output records, a cross-check of lostEvents (optional, schema 2). */
  bpftraceLostRecords?: number;
  /** The stop's drain: did every CPU confirm its events were out before bpftrace was signalled (null: no drain, e.g. bpftrace died). */
  drain?: { complete: boolean; answeredCpus: number; cpus: number } | null;
}

/** A validation result: the typed value, or the first reason it is not one. */
export type Checked<T> = { ok: true; value: T } | { ok: false; cause: string };

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isHex = (v: unknown): v is string => typeof v === 'string' && /^0x[0-9a-f]+$/.test(v);

export function checkHeader(v: unknown): Checked<TraceHeader> {
  if (!isRec(v)) return { ok: false, cause: 'header is not a JSON object' };
  if (v.magic !== TRACE_MAGIC) return { ok: false, cause: `not an exetrace trace (magic ${JSON.stringify(v.magic)})` };
  if (v.schemaVersion !== SCHEMA_VERSION) {
    return { ok: false, cause: `unsupported schema version ${JSON.stringify(v.schemaVersion)} (this exetrace reads ${SCHEMA_VERSION})` };
  }
  for (const k of ['toolVersion', 'kernelRelease', 'bpftraceVersion', 'hostname', 'startedAt'] as const) {
    if (typeof v[k] !== 'string') return { ok: false, cause: `header.${k} is not a string` };
  }
  if (!FLAVORS.includes(v.flavor as Flavor)) return { ok: false, cause: `header.flavor ${JSON.stringify(v.flavor)} is unknown` };
  const c = v.clockRef;
  if (!isRec(c) || !isInt(c.monotonicNs) || !isInt(c.wallMs)) return { ok: false, cause: 'header.clockRef needs integer monotonicNs and wallMs' };
  const f = v.filters;
  if (!isRec(f) || !(f.pid === null || isInt(f.pid)) || !(f.comm === null || typeof f.comm === 'string')) {
    return { ok: false, cause: 'header.filters needs pid (integer|null) and comm (string|null)' };
  }
  return { ok: true, value: v as unknown as TraceHeader };
}

const TRAILER_REASONS = ['duration', 'signal', 'bpftrace-exited', 'error'];

export function checkTrailer(v: Rec): Checked<TraceTrailer> {
  if (typeof v.endedAt !== 'string') return { ok: false, cause: 'trailer.endedAt is not a string' };
  for (const k of ['events', 'lostEvents', 'parseIssues'] as const) {
    if (!isInt(v[k]) || (v[k] as number) < 0) return { ok: false, cause: `trailer.${k} is not a non-negative integer` };
  }
  if (!TRAILER_REASONS.includes(v.reason as string)) return { ok: false, cause: `trailer.reason ${JSON.stringify(v.reason)} is unknown` };
  if (!(v.error === null || typeof v.error === 'string')) return { ok: false, cause: 'trailer.error is not a string or null' };
  if (v.skippedSnapshots !== undefined && !isInt(v.skippedSnapshots)) return { ok: false, cause: 'trailer.skippedSnapshots is not an integer' };
  for (const k of ['incompleteEvents', 'bpftraceLostRecords'] as const) {
    if (v[k] !== undefined && (!isInt(v[k]) || (v[k] as number) < 0)) return { ok: false, cause: `trailer.${k} is not a non-negative integer` };
  }
  const dr = v.drain;
  if (dr !== undefined && dr !== null && (!isRec(dr) || typeof dr.complete !== 'boolean' || !isInt(dr.answeredCpus) || !isInt(dr.cpus))) {
    return { ok: false, cause: 'trailer.drain needs complete (boolean), answeredCpus and cpus (integers)' };
  }
  return { ok: true, value: v as unknown as TraceTrailer };
}

// Field types of the event schema. `?` means the value may also be null.
type FieldType = 'int' | 'int?' | 'str' | 'str?' | 'bool' | 'hex' | 'hex?' | 'file?' | 'maps' | readonly string[];

const BASE: Record<string, FieldType> = { ts: 'int', pid: 'int', tid: 'int', comm: 'str' };

const EVENT_FIELDS: Record<TraceEventKind, Record<string, FieldType>> = {
  exec_begin: { ...BASE, oldMm: 'hex?', filename: 'str', interp: 'str' },
  exec: { ...BASE, oldTid: 'int', ppid: 'int', mm: 'hex', exe: 'file?', startCode: 'int', endCode: 'int', filename: 'str' },
  fork: { ...BASE, childPid: 'int', childTid: 'int', cloneFlags: 'int', parentMm: 'hex?', thread: 'bool', sharesMm: 'bool' },
  mm_attach: { ...BASE, ppid: 'int', mm: 'hex', exe: 'file?' },
  mm_exit: { ...BASE, mm: 'hex', exe: 'file?' },
  exit: { ...BASE, groupDead: 'bool', exitCode: 'int' },
  mmap: { ...BASE, mm: 'hex', addr: 'int', len: 'int', prot: 'int', flags: 'int', fd: 'int', pgoff: 'int', file: 'file?' },
  munmap: { ...BASE, mm: 'hex', addr: 'int', len: 'int', ret: 'int' },
  mremap: { ...BASE, mm: 'hex', oldAddr: 'int', oldLen: 'int', newLen: 'int', flags: 'int', ret: 'int' },
  mprotect: { ...BASE, mm: 'hex', addr: 'int', len: 'int', prot: 'int', ret: 'int' },
  prctl_mm: { ...BASE, mm: 'hex', subOption: 'int', exeFd: 'int', ret: 'int', exeBefore: 'file?', exeAfter: 'file?' },
  exe_read: {
    ...BASE,
    syscall: EXE_READ_SYSCALLS,
    path: 'str',
    dirName: 'str?',
    targetPid: 'int?',
    ret: 'int',
    answer: 'str?',
  },
  proc_snapshot: {
    ...BASE,
    reason: SNAPSHOT_REASONS,
    exeLink: 'str?',
    exeError: 'str?',
    exeDev: 'int?',
    exeIno: 'int?',
    maps: 'maps',
  },
  gap: { ts: 'int', lost: 'int', source: ['bpftrace', 'decoder'] },
};

function checkFileRef(v: unknown): string | null {
  if (!isRec(v)) return 'is not a file object';
  if (!(v.file === null || isHex(v.file))) return '.file is not hex or null';
  if (!isInt(v.dev) || !isInt(v.ino)) return '.dev/.ino are not integers';
  if (typeof v.name !== 'string') return '.name is not a string';
  if (!(v.path === null || typeof v.path === 'string')) return '.path is not a string or null';
  if (typeof v.pathTruncated !== 'boolean') return '.pathTruncated is not a boolean';
  return null;
}

function checkMaps(v: unknown): string | null {
  if (!Array.isArray(v)) return 'is not an array';
  for (let i = 0; i < v.length; i++) {
    const m: unknown = v[i];
    if (!isRec(m)) return `[${i}] is not an object`;
    for (const k of ['start', 'end', 'offset', 'dev', 'ino'] as const) {
      if (!isInt(m[k])) return `[${i}].${k} is not an integer`;
    }
    if (typeof m.perms !== 'string' || typeof m.path !== 'string') return `[${i}] perms/path are not strings`;
  }
  return null;
}

function checkField(type: FieldType, v: unknown): string | null {
  if (Array.isArray(type)) return type.includes(v as string) ? null : `is not one of ${type.join('|')}`;
  switch (type) {
    case 'int':
      return isInt(v) ? null : 'is not an integer';
    case 'int?':
      return v === null || isInt(v) ? null : 'is not an integer or null';
    case 'str':
      return typeof v === 'string' ? null : 'is not a string';
    case 'str?':
      return v === null || typeof v === 'string' ? null : 'is not a string or null';
    case 'bool':
      return typeof v === 'boolean' ? null : 'is not a boolean';
    case 'hex':
      return isHex(v) ? null : 'is not a 0x hex string';
    case 'hex?':
      return v === null || isHex(v) ? null : 'is not a 0x hex string or null';
    case 'file?':
      return v === null ? null : checkFileRef(v);
    case 'maps':
      return checkMaps(v);
  }
  return 'has an unknown schema type';
}

export function checkEvent(v: Rec): Checked<TraceEvent> {
  const kind = v.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(EVENT_FIELDS, kind)) {
    return { ok: false, cause: `unknown event kind ${JSON.stringify(kind)}` };
  }
  const fields = EVENT_FIELDS[kind as TraceEventKind];
  for (const [name, type] of Object.entries(fields)) {
    if (!Object.hasOwn(v, name)) return { ok: false, cause: `${kind}.${name} is missing` };
    const why = checkField(type, v[name]);
    if (why !== null) return { ok: false, cause: `${kind}.${name} ${why}` };
  }
  return { ok: true, value: v as unknown as TraceEvent };
}

/** Classify one parsed JSON line that follows the header. */
export function checkBodyLine(v: unknown): ({ type: 'event'; event: TraceEvent } | { type: 'trailer'; trailer: TraceTrailer } | { type: 'error'; cause: string }) {
  if (!isRec(v)) return { type: 'error', cause: 'line is not a JSON object' };
  if (v.magic === TRAILER_MAGIC) {
    const t = checkTrailer(v);
    return t.ok ? { type: 'trailer', trailer: t.value } : { type: 'error', cause: t.cause };
  }
  if (v.magic === TRACE_MAGIC) return { type: 'error', cause: 'a second header inside the trace' };
  const e = checkEvent(v);
  return e.ok ? { type: 'event', event: e.value } : { type: 'error', cause: e.cause };
}
