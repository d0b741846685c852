// The recorded trace: JSON lines, a header first, then one TraceEvent per line, then a trailer.
// Schema 2 adds file dictionary lines: each file's identity is written once and events refer to
// it by id. Documented in docs/trace-format.md; bump SCHEMA_VERSION on any incompatible change.
// The validators here never trust the file: every field of every line is checked by kind. They
// are the reader's hot path, so each kind's fields are checked by a precompiled list, no regex.
import type { FileRef, TraceEvent, TraceEventKind } from './events.js';
import { ELF_KINDS, EXE_READ_SYSCALLS, SNAPSHOT_REASONS } from './events.js';

export const SCHEMA_VERSION = 2;
/** Versions this reader understands: 1 (inline file refs) and 2 (file dictionary). */
export const READABLE_SCHEMA_VERSIONS: readonly number[] = [1, 2];
/** `kind` of a schema-2 dictionary line: a trace-level record, never a TraceEvent. */
export const FILE_DICT_KIND = 'file';
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

/** Lower-case 0x hex, checked by hand: this runs for every pointer of every line. */
function isHex(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const n = v.length;
  if (n < 3 || v.charCodeAt(0) !== 0x30 || v.charCodeAt(1) !== 0x78) return false;
  for (let i = 2; i < n; i++) {
    const c = v.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

export function checkHeader(v: unknown): Checked<TraceHeader> {
  if (!isRec(v)) return { ok: false, cause: 'header is not a JSON object' };
  if (v.magic !== TRACE_MAGIC) return { ok: false, cause: `not an exetrace trace (magic ${JSON.stringify(v.magic)})` };
  if (!READABLE_SCHEMA_VERSIONS.includes(v.schemaVersion as number)) {
    return {
      ok: false,
      cause: `unsupported schema version ${JSON.stringify(v.schemaVersion)} (this exetrace reads ${READABLE_SCHEMA_VERSIONS.join(' and ')})`,
    };
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
type FieldType = 'int' | 'int?' | 'str' | 'str?' | 'bool' | 'bool?' | 'hex' | 'hex?' | 'file?' | 'maps' | readonly (string | null)[];

const BASE: Record<string, FieldType> = { ts: 'int', pid: 'int', tid: 'int', comm: 'str' };

const EVENT_FIELDS: Record<TraceEventKind, Record<string, FieldType>> = {
  exec_begin: { ...BASE, oldMm: 'hex?', filename: 'str', interp: 'str' },
  exec: {
    ...BASE,
    oldTid: 'int',
    ppid: 'int',
    mm: 'hex',
    exe: 'file?',
    startCode: 'int',
    endCode: 'int',
    filename: 'str',
    argv0: 'str',
    exeMagic: 'int',
    exeInternalMount: 'bool',
    exeOverlayUpper: 'bool',
  },
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
    interpBase: 'int?',
    exeElf: [...ELF_KINDS, null],
    exeNlink: 'int?',
    exeFsMagic: 'int?',
    exeMountListed: 'bool?',
    startCode: 'int?',
    endCode: 'int?',
  },
  gap: { ts: 'int', lost: 'int', source: ['bpftrace', 'decoder'] },
};

/** Fields added after schema 2 shipped: older traces lack them, so they may be absent. */
const OPTIONAL_FIELDS: ReadonlySet<string> = new Set([
  'exec.argv0',
  'exec.exeMagic',
  'exec.exeInternalMount',
  'exec.exeOverlayUpper',
  'proc_snapshot.interpBase',
  'proc_snapshot.exeElf',
  'proc_snapshot.exeNlink',
  'proc_snapshot.exeFsMagic',
  'proc_snapshot.exeMountListed',
  'proc_snapshot.startCode',
  'proc_snapshot.endCode',
]);

/** The fields of each kind that hold a file ref: the writer interns exactly these. */
export const FILE_FIELDS: Readonly<Partial<Record<TraceEventKind, readonly string[]>>> = Object.fromEntries(
  Object.entries(EVENT_FIELDS)
    .map(([kind, fields]) => [kind, Object.keys(fields).filter((k) => fields[k] === 'file?')] as const)
    .filter(([, names]) => names.length > 0),
);

/** A schema-2 dictionary line: one file identity, referred to by `id` in later events. */
export interface FileDictLine {
  kind: typeof FILE_DICT_KIND;
  id: number;
  dev: number;
  ino: number;
  name: string;
  path: string | null;
  pathTruncated: boolean;
}

/** In an event line of schema 2: a file by dictionary id, plus the struct file pointer of this event. */
export interface CompactFileRef {
  ref: number;
  file: string | null;
}

/** A dictionary entry as the reader holds it; `last` lets events with the same pointer share one FileRef. */
interface FileEntry {
  dev: number;
  ino: number;
  name: string;
  path: string | null;
  pathTruncated: boolean;
  last: FileRef | null;
}

/** The file dictionary of one trace, as read so far. */
export class FileDictionary {
  private readonly byId = new Map<number, FileEntry>();

  get size(): number {
    return this.byId.size;
  }

  /** Validate and record a dictionary line; returns the cause when it is not a valid one. */
  define(v: Rec): string | null {
    const id = v.id;
    if (!isInt(id) || id < 0) return 'file.id is not a non-negative integer';
    const why = fileFieldsWhy(v);
    if (why !== null) return `file${why.slice(1)}`;
    if (this.byId.has(id)) return `file id ${id} is defined twice`;
    this.byId.set(id, {
      dev: v.dev as number,
      ino: v.ino as number,
      name: v.name as string,
      path: v.path as string | null,
      pathTruncated: v.pathTruncated as boolean,
      last: null,
    });
    return null;
  }

  /** The FileRef for a compact ref, or null when the id is unknown. Consumers must not mutate it. */
  resolve(id: number, file: string | null): FileRef | null {
    const e = this.byId.get(id);
    if (e === undefined) return null;
    const last = e.last;
    if (last !== null && last.file === file) return last;
    const ref: FileRef = { file, dev: e.dev, ino: e.ino, name: e.name, path: e.path, pathTruncated: e.pathTruncated };
    e.last = ref;
    return ref;
  }
}

/** The identity fields shared by inline file refs and dictionary lines: null when valid. */
function fileFieldsWhy(v: Rec): string | null {
  if (!isInt(v.dev) || !isInt(v.ino)) return ' .dev/.ino are not integers';
  if (typeof v.name !== 'string') return ' .name is not a string';
  if (!(v.path === null || typeof v.path === 'string')) return ' .path is not a string or null';
  if (typeof v.pathTruncated !== 'boolean') return ' .pathTruncated is not a boolean';
  return null;
}

function checkFileRef(v: unknown): string | null {
  if (!isRec(v)) return 'is not a file object';
  if (!(v.file === null || isHex(v.file))) return '.file is not hex or null';
  const why = fileFieldsWhy(v);
  return why === null ? null : why.slice(1);
}

function checkMaps(v: unknown): string | null {
  if (!Array.isArray(v)) return 'is not an array';
  for (let i = 0; i < v.length; i++) {
    const m: unknown = v[i];
    if (!isRec(m)) return `[${i}] is not an object`;
    if (!isInt(m.start)) return `[${i}].start is not an integer`;
    if (!isInt(m.end)) return `[${i}].end is not an integer`;
    if (!isInt(m.offset)) return `[${i}].offset is not an integer`;
    if (!isInt(m.dev)) return `[${i}].dev is not an integer`;
    if (!isInt(m.ino)) return `[${i}].ino is not an integer`;
    if (typeof m.perms !== 'string' || typeof m.path !== 'string') return `[${i}] perms/path are not strings`;
  }
  return null;
}

// Field checks compiled once per kind: a small integer code per field, so the per-line loop
// allocates nothing and never looks at the schema table.
const T_INT = 0,
  T_INT_N = 1,
  T_STR = 2,
  T_STR_N = 3,
  T_BOOL = 4,
  T_HEX = 5,
  T_HEX_N = 6,
  T_FILE_N = 7,
  T_MAPS = 8,
  T_ENUM = 9,
  T_BOOL_N = 10;
const CODE: Record<Exclude<FieldType, readonly (string | null)[]>, number> = {
  int: T_INT,
  'int?': T_INT_N,
  str: T_STR,
  'str?': T_STR_N,
  bool: T_BOOL,
  'bool?': T_BOOL_N,
  hex: T_HEX,
  'hex?': T_HEX_N,
  'file?': T_FILE_N,
  maps: T_MAPS,
};

interface CompiledField {
  name: string;
  code: number;
  values: readonly (string | null)[] | null;
  /** The cause when absent, or null when the field may be absent (OPTIONAL_FIELDS). */
  missing: string | null;
  /** `${kind}.${name} ` prefix of every cause for this field. */
  prefix: string;
}

const COMPILED: ReadonlyMap<string, readonly CompiledField[]> = new Map(
  Object.entries(EVENT_FIELDS).map(([kind, fields]) => [
    kind,
    Object.entries(fields).map(([name, type]) => ({
      name,
      code: Array.isArray(type) ? T_ENUM : CODE[type as Exclude<FieldType, readonly (string | null)[]>],
      values: Array.isArray(type) ? (type as readonly (string | null)[]) : null,
      missing: OPTIONAL_FIELDS.has(`${kind}.${name}`) ? null : `${kind}.${name} is missing`,
      prefix: `${kind}.${name} `,
    })),
  ]),
);

const WHY: Record<number, string> = {
  [T_INT]: 'is not an integer',
  [T_INT_N]: 'is not an integer or null',
  [T_STR]: 'is not a string',
  [T_STR_N]: 'is not a string or null',
  [T_BOOL]: 'is not a boolean',
  [T_BOOL_N]: 'is not a boolean or null',
  [T_HEX]: 'is not a 0x hex string',
  [T_HEX_N]: 'is not a 0x hex string or null',
};

/**
 * A file-ref field: null, an inline FileRef (schema 1, still accepted in 2), or in schema 2 a
 * compact `{ref, file}` that is resolved in place through the dictionary.
 */
function checkFileField(v: Rec, f: CompiledField, files: FileDictionary | null): string | null {
  const x = v[f.name];
  if (x === null) return null;
  if (files !== null && isRec(x) && x.ref !== undefined) {
    if (!isInt(x.ref)) return `${f.prefix}.ref is not an integer`;
    if (!(x.file === null || isHex(x.file))) return `${f.prefix}.file is not hex or null`;
    const ref = files.resolve(x.ref, x.file);
    if (ref === null) return `${f.prefix}refers to file id ${x.ref}, which no earlier dictionary line defines`;
    v[f.name] = ref;
    return null;
  }
  const why = checkFileRef(x);
  return why === null ? null : f.prefix + why;
}

/**
 * The per-kind check, generated once from EVENT_FIELDS: straight-line code with a named
 * property load per field, which V8 inline-caches per kind (a loop over computed keys was a
 * sixth of analyze's time). Returns the cause of the first bad field, or null.
 */
type KindCheck = (v: Rec, files: FileDictionary | null) => string | null;

interface CheckHelpers {
  isInt: (v: unknown) => boolean;
  isHex: (v: unknown) => boolean;
  has: (v: Rec, k: string) => boolean;
  file: (v: Rec, f: CompiledField, files: FileDictionary | null) => string | null;
  maps: (v: unknown) => string | null;
  fields: readonly CompiledField[];
}

function compileKind(fields: readonly CompiledField[]): KindCheck {
  const q = (text: string): string => JSON.stringify(text);
  const body: string[] = ['let x;'];
  fields.forEach((f, i) => {
    body.push(`x = v[${q(f.name)}];`);
    // An optional field that is absent skips its check; a present one is checked as usual.
    const missing =
      f.missing === null ? `if (x !== undefined || h.has(v, ${q(f.name)}))` : `if (x === undefined && !h.has(v, ${q(f.name)})) return ${q(f.missing)};`;
    const bad = (test: string, why = f.prefix + (WHY[f.code] ?? '')): string =>
      f.missing === null ? `${missing} { if (${test}) return ${q(why)}; }` : `${missing} if (${test}) return ${q(why)};`;
    switch (f.code) {
      case T_INT:
        body.push(bad('!h.isInt(x)'));
        break;
      case T_INT_N:
        body.push(bad('x !== null && !h.isInt(x)'));
        break;
      case T_STR:
        body.push(bad("typeof x !== 'string'"));
        break;
      case T_STR_N:
        body.push(bad("x !== null && typeof x !== 'string'"));
        break;
      case T_BOOL:
        body.push(bad("typeof x !== 'boolean'"));
        break;
      case T_BOOL_N:
        body.push(bad("x !== null && typeof x !== 'boolean'"));
        break;
      case T_HEX:
        body.push(bad('!h.isHex(x)'));
        break;
      case T_HEX_N:
        body.push(bad('x !== null && !h.isHex(x)'));
        break;
      case T_FILE_N:
        body.push(`${missing} if (x !== null) { const why = h.file(v, h.fields[${i}], files); if (why !== null) return why; }`);
        break;
      case T_MAPS:
        body.push(`${missing} { const why = h.maps(x); if (why !== null) return ${q(f.prefix)} + why; }`);
        break;
      default:
        body.push(bad(f.values!.map((val) => `x !== ${JSON.stringify(val)}`).join(' && '), `${f.prefix}is not one of ${f.values!.join('|')}`));
    }
  });
  body.push('return null;');
  // Field names and messages come from the constant table above, never from input.
  const make = new Function('h', `return function check(v, files) {\n${body.join('\n')}\n};`) as (h: CheckHelpers) => KindCheck;
  return make({ isInt, isHex, has: (v, k) => Object.hasOwn(v, k), file: checkFileField, maps: checkMaps, fields });
}

const KIND_CHECKS: ReadonlyMap<string, KindCheck> = new Map([...COMPILED].map(([kind, fields]) => [kind, compileKind(fields)]));

/**
 * Validate one event object. With a dictionary (schema 2), compact file refs are replaced in
 * place by the FileRef they name; `v` must then be the caller's own object.
 */
export function checkEvent(v: Rec, files: FileDictionary | null = null): Checked<TraceEvent> {
  const kind = v.kind;
  const check = typeof kind === 'string' ? KIND_CHECKS.get(kind) : undefined;
  if (check === undefined) return { ok: false, cause: `unknown event kind ${JSON.stringify(kind)}` };
  const cause = check(v, files);
  return cause === null ? { ok: true, value: v as unknown as TraceEvent } : { ok: false, cause };
}

export type BodyLine = { type: 'event'; event: TraceEvent } | { type: 'trailer'; trailer: TraceTrailer } | { type: 'file' } | { type: 'error'; cause: string };

/**
 * Classify one parsed JSON line that follows the header. `files` is the trace's dictionary
 * (schema 2; null for schema 1, where a dictionary line is an unknown kind).
 */
export function checkBodyLine(v: unknown, files: FileDictionary | null = null): BodyLine {
  if (!isRec(v)) return { type: 'error', cause: 'line is not a JSON object' };
  const magic = v.magic;
  if (magic !== undefined) {
    if (magic === TRAILER_MAGIC) {
      const t = checkTrailer(v);
      return t.ok ? { type: 'trailer', trailer: t.value } : { type: 'error', cause: t.cause };
    }
    if (magic === TRACE_MAGIC) return { type: 'error', cause: 'a second header inside the trace' };
  }
  if (v.kind === FILE_DICT_KIND && files !== null) {
    const why = files.define(v);
    return why === null ? { type: 'file' } : { type: 'error', cause: why };
  }
  const e = checkEvent(v, files);
  return e.ok ? { type: 'event', event: e.value } : { type: 'error', cause: e.cause };
}
