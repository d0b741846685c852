// Turns bpftrace -f json stdout lines (the line protocol of docs/line-protocol.md) into
// TraceEvents. One table (PROBE_KINDS) names every head's fields and builds its event. Parts
// join their head by (cpu, seq); per-CPU head sequence numbers make every lost event countable
// exactly. File paths arrive once per identity and are kept in a session dictionary. Never
// throws: every bad line becomes a ParseIssue naming the line number and the cause.
import type { FileRef, Hex, TraceEvent } from './events.js';
import { CLONE_THREAD, CLONE_VM, EXE_READ_SYSCALLS } from './events.js';
import type { ParseIssue } from './consumer.js';
import { parseBpftraceJsonLine } from './bpftrace-json.js';
import { decodeKernelBytes, encodeKernelString } from './kernel-string.js';
import { kernelDevToStatDev } from '../kernel/dev-t.js';
import { ARGV0_IS_FILENAME } from './exec-filename-join.js';
import { FILE_FIELDS } from './trace-format.js';

export type DecodeOutput =
  /** `cpu`: the ring it was read from (its timestamps only grow); null when not from one. */
  | { type: 'event'; event: TraceEvent; cpu: number | null }
  | { type: 'issue'; issue: ParseIssue }
  /** All probes are attached (the script's "S ready" line); `probes` from attached_probes. */
  | { type: 'attached'; probes: number }
  /** A CPU answered drain request `request`: everything it produced before is decoded. */
  | { type: 'drained'; request: number; cpu: number }
  /** `cpu`'s ring has been read up to kernel time `ts` (the probes' periodic tick). */
  | { type: 'tick'; cpu: number; ts: number };

/** What the decoder counted beyond the events themselves (the trailer reports them). */
export interface DecoderCounts {
  /** Events the kernel produced that never arrived: missing head sequence numbers. */
  lostEvents: number;
  /** Events that arrived without some of their parts (emitted with what arrived). */
  incompleteEvents: number;
  /** Parts whose head was lost (already counted in lostEvents). */
  orphanParts: number;
  /** bpftrace's own lost_events total (output records, not events; a cross-check only). */
  bpftraceLostRecords: number;
  /** File references whose path was printed in a record that was lost. */
  unresolvedFiles: number;
}

/** ncomp value meaning "path not printed here": seen before in this session, or never walked. */
export const NCOMP_NOT_PRINTED = 255;
/** The walk's bound in the probes; a larger |ncomp| cannot be genuine. */
const MAX_COMPONENTS = 24;
const MAX_CPUS = 4096;

type FieldType = 'int' | 'hex' | 'ptr' | 'file';
type FieldValue<T extends FieldType> = T extends 'int' ? number : T extends 'hex' ? Hex : T extends 'ptr' ? Hex | null : FileRef | null;
type FieldsOf<S extends Record<string, FieldType>> = { [K in keyof S]: FieldValue<S[K]> };

interface Head {
  spec: CompiledKind;
  kind: string;
  cpu: number;
  seq: number;
  ts: number;
  pid: number;
  tid: number;
  nparts: number;
  comm: string;
  /** Field values in the kind's order (file references still raw until the parts are in). */
  values: (number | Hex | null | RawFile)[];
  /** Created on the first part: most heads have none. */
  parts: Map<string, string> | null;
  lineNo: number;
  raw: string;
}

interface RawFile {
  raw: true;
  file: Hex | null;
  dev: number;
  ino: number;
  /** The probes' id for this (identity, f_path)'s printed path; 0 when never printed. */
  pathId: number;
  ncomp: number;
  prefix: string;
}

interface PartsView {
  str(label: string): string;
  has(label: string): boolean;
  labels(): Iterable<string>;
}

const NO_PARTS: PartsView = { str: () => '', has: () => false, labels: () => [] };

interface KindSpec<S extends Record<string, FieldType>> {
  fields: S;
  /**
   * The head ends with comm as two little-endian hex words, then this part's string (one
   * printf less); it is not counted in nparts.
   */
  trailingPart?: string;
  /** Label prefix of each file field's path parts. */
  filePrefixes?: { [K in keyof S]?: string };
  /** The event (or events: a fork record carries its child's mm_attach), or why it cannot be built. */
  build(base: { ts: number; pid: number; tid: number; comm: string }, f: FieldsOf<S>, parts: PartsView): TraceEvent | TraceEvent[] | string;
}

const kind = <S extends Record<string, FieldType>>(spec: KindSpec<S>): KindSpec<S> => spec;

/** Every head kind the probes print: field names and types in print order, and the event built. */
export const PROBE_KINDS = {
  exec_begin: kind({
    fields: { oldMm: 'ptr' },
    trailingPart: 'filename',
    build: (b, f, p) => ({
      ts: b.ts,
      pid: b.pid,
      tid: b.tid,
      comm: b.comm,
      kind: 'exec_begin',
      oldMm: f.oldMm,
      filename: p.str('filename'),
      interp: p.has('interp') ? p.str('interp') : p.str('filename'),
    }),
  }),
  exec: kind({
    fields: {
      oldTid: 'int',
      ppid: 'int',
      mm: 'hex',
      startCode: 'int',
      endCode: 'int',
      exe: 'file',
      exeMagic: 'int',
      exeInternalMount: 'int',
      exeOverlayUpper: 'int',
      argv0Src: 'int',
    },
    filePrefixes: { exe: 'exe' },
    build: (b, f, p) => ({
      ts: b.ts,
      pid: b.pid,
      tid: b.tid,
      comm: b.comm,
      kind: 'exec',
      oldTid: f.oldTid,
      ppid: f.ppid,
      mm: f.mm,
      startCode: f.startCode,
      endCode: f.endCode,
      exe: f.exe,
      filename: p.str('filename'),
      // Printed only when it is neither comm (argv0Src 1) nor the filename (2: exec_begin's,
      // joined later in the time-ordered stream, unless this record printed it).
      argv0: f.argv0Src === 1 ? b.comm : f.argv0Src === 2 ? (p.has('filename') ? p.str('filename') : ARGV0_IS_FILENAME) : p.str('argv0'),
      exeMagic: f.exeMagic,
      exeInternalMount: f.exeInternalMount === 1,
      exeOverlayUpper: f.exeOverlayUpper === 1,
    }),
  }),
  fork: kind({
    fields: { childPid: 'int', childTid: 'int', cloneFlags: 'int', parentMm: 'ptr', childMm: 'ptr', childPpid: 'int', childExe: 'file' },
    filePrefixes: { childExe: 'exe' },
    build: (b, f) => {
      const fork: TraceEvent = {
        ts: b.ts,
        pid: b.pid,
        tid: b.tid,
        comm: b.comm,
        kind: 'fork',
        childPid: f.childPid,
        childTid: f.childTid,
        cloneFlags: f.cloneFlags,
        parentMm: f.parentMm,
        thread: (f.cloneFlags & CLONE_THREAD) !== 0,
        sharesMm: (f.cloneFlags & CLONE_VM) !== 0,
      };
      // No childMm: the child prints its own mm_attach at its first return to user space.
      if (f.childMm === null) return fork;
      // The child's comm is ours until it execs or renames itself; its exe is its mm's (dup_mmap).
      const attach: TraceEvent = {
        ts: b.ts,
        pid: f.childPid,
        tid: f.childTid,
        comm: b.comm,
        kind: 'mm_attach',
        ppid: f.childPpid,
        mm: f.childMm,
        exe: f.childExe,
      };
      return [fork, attach];
    },
  }),
  mm_attach: kind({
    fields: { ppid: 'int', mm: 'hex', exe: 'file' },
    filePrefixes: { exe: 'exe' },
    build: (b, f) => ({ ts: b.ts, pid: b.pid, tid: b.tid, comm: b.comm, kind: 'mm_attach', ppid: f.ppid, mm: f.mm, exe: f.exe }),
  }),
  mm_exit: kind({
    fields: { mm: 'hex', exe: 'file' },
    filePrefixes: { exe: 'exe' },
    build: (b, f) => ({ ts: b.ts, pid: b.pid, tid: b.tid, comm: b.comm, kind: 'mm_exit', mm: f.mm, exe: f.exe }),
  }),
  exit: kind({
    fields: { groupDead: 'int', exitCode: 'int' },
    build: (b, f) => ({ ts: b.ts, pid: b.pid, tid: b.tid, comm: b.comm, kind: 'exit', groupDead: f.groupDead !== 0, exitCode: f.exitCode }),
  }),
  mmap: kind({
    fields: { mm: 'hex', addr: 'int', len: 'int', prot: 'int', flags: 'int', fd: 'int', pgoff: 'int', file: 'file' },
    filePrefixes: { file: 'file' },
    build: (b, f) => ({
      ts: b.ts,
      pid: b.pid,
      tid: b.tid,
      comm: b.comm,
      kind: 'mmap',
      mm: f.mm,
      addr: f.addr,
      len: f.len,
      prot: f.prot,
      flags: f.flags,
      fd: f.fd,
      pgoff: f.pgoff,
      file: f.file,
    }),
  }),
  munmap: kind({
    fields: { mm: 'hex', addr: 'int', len: 'int', ret: 'int' },
    build: (b, f) => ({ ts: b.ts, pid: b.pid, tid: b.tid, comm: b.comm, kind: 'munmap', mm: f.mm, addr: f.addr, len: f.len, ret: f.ret }),
  }),
  mremap: kind({
    fields: { mm: 'hex', oldAddr: 'int', oldLen: 'int', newLen: 'int', flags: 'int', ret: 'int' },
    build: (b, f) => ({
      ts: b.ts,
      pid: b.pid,
      tid: b.tid,
      comm: b.comm,
      kind: 'mremap',
      mm: f.mm,
      oldAddr: f.oldAddr,
      oldLen: f.oldLen,
      newLen: f.newLen,
      flags: f.flags,
      ret: f.ret,
    }),
  }),
  mprotect: kind({
    fields: { mm: 'hex', addr: 'int', len: 'int', prot: 'int', ret: 'int' },
    build: (b, f) => ({ ts: b.ts, pid: b.pid, tid: b.tid, comm: b.comm, kind: 'mprotect', mm: f.mm, addr: f.addr, len: f.len, prot: f.prot, ret: f.ret }),
  }),
  prctl_mm: kind({
    fields: { mm: 'hex', subOption: 'int', exeFd: 'int', ret: 'int', exeBefore: 'file', exeAfter: 'file' },
    filePrefixes: { exeBefore: 'before', exeAfter: 'after' },
    build: (b, f) => ({
      ts: b.ts,
      pid: b.pid,
      tid: b.tid,
      comm: b.comm,
      kind: 'prctl_mm',
      mm: f.mm,
      subOption: f.subOption,
      exeFd: f.exeFd,
      ret: f.ret,
      exeBefore: f.exeBefore,
      exeAfter: f.exeAfter,
    }),
  }),
  exe_read: kind({
    fields: { sys: 'int', ret: 'int' },
    build: (b, f, p) => {
      const syscall = EXE_READ_SYSCALLS[f.sys];
      if (syscall === undefined) return `exe_read: unknown syscall code ${f.sys}`;
      const path = p.str('path');
      const dirName = p.has('dir') ? p.str('dir') : null;
      return {
        ts: b.ts,
        pid: b.pid,
        tid: b.tid,
        comm: b.comm,
        kind: 'exe_read',
        syscall,
        path,
        dirName,
        targetPid: resolveExeTarget(path, dirName, b.pid),
        ret: f.ret,
        answer: p.has('answer') ? readlinkAnswer(p.str('answer'), f.ret) : answerPath(p),
      };
    },
  }),
} as const;

/** Each kind's fields as arrays, in print order (the table's key order), for the hot path. */
interface CompiledKind {
  names: string[];
  types: FieldType[];
  prefixes: string[];
  trailingPart: string | null;
  build: KindSpec<Record<string, FieldType>>['build'];
}
const COMPILED: ReadonlyMap<string, CompiledKind> = new Map(
  Object.entries(PROBE_KINDS as Record<string, KindSpec<Record<string, FieldType>>>).map(([k, spec]) => {
    const names = Object.keys(spec.fields);
    const prefixes = spec.filePrefixes ?? {};
    return [
      k,
      {
        names,
        types: names.map((n) => spec.fields[n]!),
        prefixes: names.map((n) => prefixes[n] ?? n),
        trailingPart: spec.trailingPart ?? null,
        build: spec.build,
      },
    ];
  }),
);

/** bpftrace -f json's printf record, as printed: the fast path slices it without JSON.parse. */
const PRINTF_PREFIX = '{"type": "printf", "data": "';
const PRINTF_SUFFIX = '\\n"}';

class LineError extends Error {}

export { kernelDevToStatDev };

/** A decimal integer token (optionally negative) that fits a JS safe integer. */
function parseInt64(token: string | undefined, what: string): number {
  if (token === undefined || token.length === 0) throw new LineError(`${what}: missing`);
  const neg = token.charCodeAt(0) === 45; /* - */
  let i = neg ? 1 : 0;
  if (i === token.length || token.length > 20) throw new LineError(`${what}: "${token}" is not a decimal number`);
  let n = 0;
  for (; i < token.length; i++) {
    const c = token.charCodeAt(i) - 48;
    if (c < 0 || c > 9) throw new LineError(`${what}: "${token}" is not a decimal number`);
    n = n * 10 + c;
  }
  // Up to 15 digits the sum above is exact; longer ones are checked the slow way.
  if (token.length - (neg ? 1 : 0) > 15) {
    n = Math.abs(Number(token));
    if (!Number.isSafeInteger(n)) throw new LineError(`${what}: ${token} is too large to represent exactly`);
  }
  return neg ? -n : n;
}

/** The value of one hex digit's char code, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * comm from the two little-endian words of task_struct.comm (TASK_COMM_LEN 16): its bytes up
 * to the first NUL, decoded like every kernel string.
 */
function commFromWords(lo: string, hi: string, what: string): string {
  const bytes: number[] = [];
  let ascii = true;
  for (const word of [lo, hi]) {
    if (word.length < 3 || word.length > 18 || word.charCodeAt(0) !== 48 || word.charCodeAt(1) !== 120) {
      throw new LineError(`${what}.comm: "${word.slice(0, 32)}" is not a 0x-hex word`);
    }
    // The last two digits are the first byte; a missing leading digit is a 0.
    for (let end = word.length; end > 2; end -= 2) {
      const low = hexDigit(word.charCodeAt(end - 1));
      const high = end - 2 >= 2 ? hexDigit(word.charCodeAt(end - 2)) : 0;
      if (low < 0 || high < 0) throw new LineError(`${what}.comm: "${word.slice(0, 32)}" is not a 0x-hex word`);
      const b = high * 16 + low;
      if (b === 0) return finishComm(bytes, ascii);
      if (b >= 0x80) ascii = false;
      bytes.push(b);
    }
    // Leading zero bytes are not printed: the word ended early, so comm ends here too.
    if (word.length < 18) return finishComm(bytes, ascii);
  }
  return finishComm(bytes, ascii);
}

function finishComm(bytes: number[], ascii: boolean): string {
  return ascii ? String.fromCharCode(...bytes) : decodeKernelBytes(Uint8Array.from(bytes));
}

/** A 0x-hex pointer, normalised to lower case without leading zeros (bpftrace already prints it so). */
function parseHex(token: string | undefined, what: string): Hex {
  if (token === undefined || token.length < 3 || token.length > 18 || token.charCodeAt(0) !== 48 || token.charCodeAt(1) !== 120) {
    throw new LineError(`${what}: "${token ?? ''}" is not a 0x-hex pointer`);
  }
  let canonical = token.length === 3 || token.charCodeAt(2) !== 48;
  for (let i = 2; i < token.length; i++) {
    const c = token.charCodeAt(i);
    const digit = (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
    if (!digit) {
      if (!(c >= 65 && c <= 70)) throw new LineError(`${what}: "${token}" is not a 0x-hex pointer`);
      canonical = false;
    }
  }
  return canonical ? token : '0x' + BigInt(token).toString(16);
}

/**
 * The pid whose exe link a path names: /proc/self/exe and /proc/thread-self/exe → the reader,
 * /proc/123/exe (or /proc/123/task/456/exe) → 123, relative "exe" under dir "123" → 123.
 */
export function resolveExeTarget(path: string, dirName: string | null, readerPid: number): number | null {
  let comps: string[];
  if (path.startsWith('/')) {
    comps = path.split('/').filter((c) => c !== '' && c !== '.');
    if (comps[0] !== 'proc') return null;
    comps = comps.slice(1);
  } else {
    if (dirName === null) return null;
    comps = [dirName, ...path.split('/').filter((c) => c !== '' && c !== '.')];
    if (comps[0] === 'proc') comps = comps.slice(1);
    // dirfd on /proc/PID/task: the path starts at the tid.
    if (comps[0] === 'task') comps = comps.slice(1);
  }
  if (comps.length < 2 || comps[comps.length - 1] !== 'exe' || comps.includes('..')) return null;
  const who = comps[0]!;
  if (who === 'self' || who === 'thread-self') return readerPid;
  if (/^[1-9][0-9]{0,9}$/.test(who)) return Number(who);
  return null;
}

/** readlink does not NUL-terminate: only the first `ret` bytes of the buffer are the answer. */
function readlinkAnswer(answer: string, ret: number): string {
  if (ret < 0) return answer;
  const bytes = encodeKernelString(answer);
  return ret >= bytes.length ? answer : decodeKernelBytes(bytes.subarray(0, ret));
}

/** proc_exe_link prints its answer as a path walk, answer.c0 (leaf) ..; null if none or one is missing. */
function answerPath(p: PartsView): string | null {
  let n = 0;
  for (const l of p.labels()) if (l.startsWith('answer.c')) n++;
  if (n === 0) return null;
  const comps: string[] = [];
  for (let i = n - 1; i >= 0; i--) {
    if (!p.has(`answer.c${i}`)) return null;
    comps.push(p.str(`answer.c${i}`));
  }
  return '/' + comps.join('/');
}

interface DictEntry {
  name: string;
  path: string | null;
  pathTruncated: boolean;
}

export interface DecoderOptions {
  source?: string;
  /** A file reference named a path this session never received (its record was lost). */
  onUnresolvedFile?(): void;
}

export class ProbeDecoder {
  private readonly source: string;
  private readonly onUnresolvedFile: () => void;
  /** The one head per CPU still waiting for parts (a CPU prints an event's records back to back). */
  private readonly pending = new Map<number, Head>();
  private readonly lastSeq = new Map<number, number>();
  private readonly lastTs = new Map<number, number>();
  /** Paths by the probes' path id, and by (dev, ino) as learnt from /proc. */
  private readonly paths = new Map<number, DictEntry>();
  private readonly procPaths = new Map<string, DictEntry>();
  /** File refs whose path id was not known when decoded, with that id (see resolveLate). */
  private readonly latePaths = new WeakMap<FileRef, number>();
  private lateRefs = 0;
  private attachedProbes = 0;
  private newestTs = 0;
  readonly counts: DecoderCounts = { lostEvents: 0, incompleteEvents: 0, orphanParts: 0, bpftraceLostRecords: 0, unresolvedFiles: 0 };

  constructor(opts: DecoderOptions | string = {}) {
    const o = typeof opts === 'string' ? { source: opts } : opts;
    this.source = o.source ?? 'bpftrace';
    this.onUnresolvedFile = o.onUnresolvedFile ?? (() => {});
  }

  /**
   * Fill in the paths of `event`'s file refs that named a path id not yet decoded. Call it
   * after the CPU merge: an event leaves the merge once every CPU's output up to its time was
   * decoded, so a path printed on another CPU just before is known by then. A path still
   * unknown was printed in a lost record: it is counted, and the probes asked for every path
   * again. Returns the event (its file fields replaced in place).
   */
  resolveLate<E extends TraceEvent>(event: E): E {
    if (this.lateRefs === 0) return event;
    const fields = FILE_FIELDS[event.kind];
    if (fields === undefined) return event;
    const record = event as unknown as Record<string, FileRef | null>;
    for (const name of fields) {
      const ref = record[name];
      if (ref === null || ref === undefined) continue;
      const pathId = this.latePaths.get(ref);
      if (pathId === undefined) continue;
      this.latePaths.delete(ref);
      this.lateRefs--;
      const entry = this.paths.get(pathId) ?? this.procPaths.get(`${ref.dev}:${ref.ino}`);
      if (entry === undefined) {
        this.counts.unresolvedFiles++;
        this.onUnresolvedFile();
        continue;
      }
      record[name] = { file: ref.file, dev: ref.dev, ino: ref.ino, name: entry.name, path: entry.path, pathTruncated: entry.pathTruncated };
    }
    return event;
  }

  /** A path seen in /proc (start-up snapshot): used for identities the probes never walk. */
  learnPath(dev: number, ino: number, path: string): void {
    const slash = path.lastIndexOf('/');
    this.procPaths.set(`${dev}:${ino}`, { name: path.slice(slash + 1), path, pathTruncated: false });
  }

  push(line: string, lineNo: number): DecodeOutput[] {
    const out: DecodeOutput[] = [];
    // Fast path: a printf record with no escape but the final "\n" is printable ASCII as is.
    if (line.startsWith(PRINTF_PREFIX) && line.endsWith(PRINTF_SUFFIX) && line.indexOf('\\', PRINTF_PREFIX.length) === line.length - PRINTF_SUFFIX.length) {
      this.guard(line.slice(PRINTF_PREFIX.length, line.length - PRINTF_SUFFIX.length), true, lineNo, line, out);
      return out;
    }
    // bpftrace prints blank lines on exit; they carry nothing.
    if (line.trim() === '') return out;
    const rec = parseBpftraceJsonLine(line);
    switch (rec.type) {
      case 'error':
        out.push(this.issue(lineNo, rec.cause, line));
        break;
      case 'attached_probes':
        // bpftrace prints this before attaching; readiness is the script's "S ready" (BEGIN).
        this.attachedProbes = rec.probes;
        break;
      case 'lost_events':
        // Output records, not events, and undercounted with a slow reader: the sequence
        // numbers are the truth; this stays a cross-check in the trailer.
        this.counts.bpftraceLostRecords += rec.events;
        break;
      case 'helper_error':
        // The program went on, but without what that helper was to do: never silent.
        out.push(
          this.issue(
            lineNo,
            `bpftrace: helper ${rec.helper} failed (${rec.retcode})${rec.line !== null ? ` at program line ${rec.line}` : ''}${rec.message ? `: ${rec.message}` : ''}`,
            line,
          ),
        );
        break;
      case 'other':
        out.push(this.issue(lineNo, `unexpected bpftrace record type "${rec.recordType}"`, line));
        break;
      case 'printf': {
        const data = rec.data;
        if (data.length === 0 || data[data.length - 1] !== 0x0a) {
          out.push(this.issue(lineNo, 'record does not end with a newline (truncated?)', line));
          break;
        }
        this.guard(data.toString('latin1', 0, data.length - 1), false, lineNo, line, out);
        break;
      }
    }
    return out;
  }

  /** Emits every head still waiting for parts (end of stream). */
  flush(): DecodeOutput[] {
    const out: DecodeOutput[] = [];
    for (const h of [...this.pending.values()]) this.emitIncomplete(h, out);
    return out;
  }

  private issue(line: number, cause: string, raw: string): DecodeOutput {
    return { type: 'issue', issue: { source: this.source, line, cause, raw } };
  }

  /** `ascii`: the text is the record's bytes as printable ASCII; else latin1 (one char per byte). */
  private guard(text: string, ascii: boolean, lineNo: number, raw: string, out: DecodeOutput[]): void {
    try {
      const c0 = text.charCodeAt(0);
      if (text.charCodeAt(1) !== 0x20) throw new LineError('record is neither a head ("H ..."), a part ("P ...") nor a status ("S ...")');
      if (c0 === 0x48 /* H */) this.head(text, ascii, lineNo, raw, out);
      else if (c0 === 0x50 /* P */) this.part(text, ascii, lineNo, raw, out);
      else if (c0 === 0x53 /* S */) this.status(text, out);
      else throw new LineError('record is neither a head ("H ..."), a part ("P ...") nor a status ("S ...")');
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      out.push(this.issue(lineNo, err.message, raw));
    }
  }

  private kernelString(text: string, from: number, ascii: boolean): string {
    const s = text.slice(from);
    return ascii ? s : decodeKernelBytes(Buffer.from(s, 'latin1'));
  }

  private status(text: string, out: DecodeOutput[]): void {
    if (text === 'S ready') {
      out.push({ type: 'attached', probes: this.attachedProbes });
      return;
    }
    const tok = text.split(' ');
    if (tok[1] === 'tick' && tok.length === 4) {
      out.push({ type: 'tick', cpu: this.cpuOf(tok[2]), ts: parseInt64(tok[3], 'tick ts') });
      return;
    }
    if (tok[1] !== 'drained' || tok.length !== 5) throw new LineError(`unknown status record "${text.slice(0, 40)}"`);
    const request = parseInt64(tok[2], 'drained request');
    const cpu = this.cpuOf(tok[3]);
    const seq = parseInt64(tok[4], 'drained seq');
    const h = this.pending.get(cpu);
    if (h) this.emitIncomplete(h, out);
    this.accountSeq(cpu, seq, this.lastTs.get(cpu) ?? this.newestTs, out, true);
    out.push({ type: 'drained', request, cpu });
  }

  private cpuOf(token: string | undefined): number {
    const cpu = parseInt64(token, 'cpu');
    if (cpu < 0 || cpu >= MAX_CPUS) throw new LineError(`cpu ${cpu} out of range`);
    return cpu;
  }

  /**
   * Heads are numbered 1, 2, ... per CPU; a jump is that many events lost. `upTo`: the drain
   * marker's seq is the CPU's last head (not a new one).
   */
  private accountSeq(cpu: number, seq: number, ts: number, out: DecodeOutput[], upTo = false): boolean {
    const last = this.lastSeq.get(cpu) ?? 0;
    const expected = upTo ? last : last + 1;
    if (seq < expected || (!upTo && seq === last)) return false;
    const lost = seq - expected;
    if (lost > 0) {
      this.counts.lostEvents += lost;
      out.push({ type: 'event', event: { kind: 'gap', source: 'decoder', lost, ts: this.lastTs.get(cpu) ?? ts }, cpu });
    }
    if (seq > last) this.lastSeq.set(cpu, seq);
    return true;
  }

  /** The head being parsed and the position after its last token (no closure per head). */
  private cursor = 0;
  private cursorText = '';

  private token(): string {
    const text = this.cursorText;
    const sp = text.indexOf(' ', this.cursor);
    if (sp < 0) throw new LineError('head record is too short');
    const tok = text.slice(this.cursor, sp);
    this.cursor = sp + 1;
    return tok;
  }

  private head(text: string, ascii: boolean, lineNo: number, raw: string, out: DecodeOutput[]): void {
    // "H kind cpu seq ts pid tid nparts <fields...> <comm>": split the fixed tokens; the rest is comm.
    this.cursorText = text;
    this.cursor = 2;
    const kindName = this.token();
    const spec = COMPILED.get(kindName);
    if (!spec) throw new LineError(`unknown event kind "${kindName.slice(0, 32)}"`);
    const cpu = this.cpuOf(this.token());
    const seq = parseInt64(this.token(), 'seq');
    const ts = parseInt64(this.token(), 'ts');
    const pid = parseInt64(this.token(), 'pid');
    const tid = parseInt64(this.token(), 'tid');
    const nparts = parseInt64(this.token(), 'nparts');
    if (nparts < 0 || nparts > 256) throw new LineError(`nparts ${nparts} out of range`);
    const { names, types, prefixes } = spec;
    const values: Head['values'] = new Array(types.length);
    for (let i = 0; i < types.length; i++) {
      switch (types[i]) {
        case 'int':
          values[i] = parseInt64(this.token(), `${kindName}.${names[i]}`);
          break;
        case 'hex':
          values[i] = parseHex(this.token(), `${kindName}.${names[i]}`);
          break;
        case 'ptr': {
          const h = parseHex(this.token(), `${kindName}.${names[i]}`);
          values[i] = h === '0x0' ? null : h;
          break;
        }
        case 'file': {
          const what = `${kindName}.${names[i]}`;
          const file = parseHex(this.token(), what);
          const dev = parseInt64(this.token(), what);
          const ino = parseInt64(this.token(), what);
          const pathId = parseInt64(this.token(), what);
          const ncomp = parseInt64(this.token(), what);
          if (dev < 0 || ino < 0 || pathId < 0 || (ncomp !== NCOMP_NOT_PRINTED && Math.abs(ncomp) > MAX_COMPONENTS)) {
            throw new LineError(`${what}: file reference out of range`);
          }
          values[i] = { raw: true, file: file === '0x0' ? null : file, dev, ino, pathId, ncomp, prefix: prefixes[i]! };
          break;
        }
      }
    }
    let comm: string;
    let trailing: string | null = null;
    if (spec.trailingPart !== null) {
      comm = commFromWords(this.token(), this.token(), kindName);
      trailing = this.kernelString(text, this.cursor, ascii);
    } else {
      comm = this.kernelString(text, this.cursor, ascii);
    }
    // The previous head of this CPU is complete or never will be: its parts come right after it.
    const prev = this.pending.get(cpu);
    if (prev) this.emitIncomplete(prev, out);
    if (!this.accountSeq(cpu, seq, ts, out)) throw new LineError(`head seq ${seq} on cpu ${cpu} repeats or goes back (last ${this.lastSeq.get(cpu)})`);
    this.lastTs.set(cpu, ts);
    if (ts > this.newestTs) this.newestTs = ts;
    const parts = trailing === null ? null : new Map([[spec.trailingPart!, trailing]]);
    const h: Head = { spec, kind: kindName, cpu, seq, ts, pid, tid, nparts: nparts + (parts?.size ?? 0), comm, values, parts, lineNo, raw };
    if (nparts === 0) this.emit(h, out);
    else this.pending.set(cpu, h);
  }

  private part(text: string, ascii: boolean, lineNo: number, raw: string, out: DecodeOutput[]): void {
    // "P cpu seq label <string>": three tokens, then the string (anything but NUL).
    const s1 = text.indexOf(' ', 2);
    const s2 = s1 < 0 ? -1 : text.indexOf(' ', s1 + 1);
    const s3 = s2 < 0 ? -1 : text.indexOf(' ', s2 + 1);
    if (s3 < 0) throw new LineError('part record is too short');
    const cpu = this.cpuOf(text.slice(2, s1));
    const seq = parseInt64(text.slice(s1 + 1, s2), 'part seq');
    const label = text.slice(s2 + 1, s3);
    if (!/^[a-z][a-z0-9]*(\.c[0-9]+)?$/.test(label)) throw new LineError(`bad part label "${label.slice(0, 32)}"`);
    const h = this.pending.get(cpu);
    if (!h || h.seq !== seq) {
      // Its head was lost (a later seq than any head seen on this CPU): counted there.
      if (seq > (this.lastSeq.get(cpu) ?? 0)) {
        this.counts.orphanParts++;
        return;
      }
      throw new LineError(`part "${label}" (cpu ${cpu}, seq ${seq}) has no waiting head: its event is already complete`);
    }
    h.parts ??= new Map();
    if (h.parts.has(label)) throw new LineError(`duplicate part "${label}" for ${h.kind} (cpu ${cpu}, seq ${seq})`);
    h.parts.set(label, this.kernelString(text, s3 + 1, ascii));
    void lineNo;
    void raw;
    if (h.parts.size >= h.nparts) {
      this.pending.delete(cpu);
      this.emit(h, out);
    }
  }

  private emitIncomplete(h: Head, out: DecodeOutput[]): void {
    this.pending.delete(h.cpu);
    this.counts.incompleteEvents++;
    out.push(
      this.issue(h.lineNo, `${h.kind} (cpu ${h.cpu}, seq ${h.seq}): ${h.parts?.size ?? 0} of ${h.nparts} parts arrived; emitted with what arrived`, h.raw),
    );
    this.emit(h, out);
  }

  private fileRef(h: Head, f: RawFile): FileRef | null {
    if (f.file === null) return null;
    const dev = kernelDevToStatDev(f.dev);
    let entry: DictEntry | undefined;
    if (f.ncomp === NCOMP_NOT_PRINTED) {
      entry = (f.pathId !== 0 ? this.paths.get(f.pathId) : undefined) ?? this.procPaths.get(`${dev}:${f.ino}`);
      if (entry === undefined) {
        const ref: FileRef = { file: f.file, dev, ino: f.ino, name: '', path: null, pathTruncated: false };
        // Printed on another CPU whose ring is read later, or in a record that was lost:
        // resolveLate decides, once the CPU merge has released the event. Never printed at all
        // (an exe older than the session, not in /proc either): nothing to wait for.
        if (f.pathId !== 0) {
          this.latePaths.set(ref, f.pathId);
          this.lateRefs++;
        }
        return ref;
      }
    } else {
      const n = Math.abs(f.ncomp);
      const comps: string[] = [];
      let complete = true;
      for (let i = n - 1; i >= 0; i--) {
        const c = h.parts?.get(`${f.prefix}.c${i}`);
        if (c === undefined) complete = false;
        else comps.push(c);
      }
      // Cut at the depth bound (or a component cut at the string bound): keep what is known,
      // without the leading "/" (it may not reach the root), flagged so it shows as "…/tail".
      const truncated = f.ncomp < 0;
      const known = complete ? comps.join('/') : null;
      const path = known === null || (truncated && known === '') ? null : truncated ? known : `/${known}`;
      entry = { name: h.parts?.get(`${f.prefix}.c0`) ?? '', path, pathTruncated: truncated };
      // A walk with lost parts is not worth remembering: the next sight of the file may be luckier.
      if (complete && f.pathId !== 0) this.paths.set(f.pathId, entry);
    }
    return { file: f.file, dev, ino: f.ino, name: entry.name, path: entry.path, pathTruncated: entry.pathTruncated };
  }

  private emit(h: Head, out: DecodeOutput[]): void {
    const { names, build } = h.spec;
    const fields: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) {
      const v = h.values[i];
      fields[names[i]!] = typeof v === 'object' && v !== null ? this.fileRef(h, v) : v;
    }
    const parts = h.parts;
    const view: PartsView =
      parts === null ? NO_PARTS : { str: (label) => parts.get(label) ?? '', has: (label) => parts.has(label), labels: () => parts.keys() };
    const built = build({ ts: h.ts, pid: h.pid, tid: h.tid, comm: h.comm }, fields as FieldsOf<Record<string, FieldType>>, view);
    if (typeof built === 'string') out.push(this.issue(h.lineNo, built, h.raw));
    else if (Array.isArray(built)) for (const event of built) out.push({ type: 'event', event, cpu: h.cpu });
    else out.push({ type: 'event', event: built, cpu: h.cpu });
  }
}
