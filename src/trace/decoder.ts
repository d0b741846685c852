// Turns bpftrace -f json stdout lines (the line protocol of docs/line-protocol.md) into
// TraceEvents. Heads and their string parts are joined by (ts, tid). Never throws: every bad
// line becomes a ParseIssue naming the line number and the cause.
import type { FileRef, Hex, TraceEvent } from './events.js';
import { CLONE_THREAD, CLONE_VM, EXE_READ_SYSCALLS } from './events.js';
import type { ParseIssue } from './consumer.js';
import { parseBpftraceJsonLine } from './bpftrace-json.js';
import { decodeKernelBytes } from './kernel-string.js';
import { kernelDevToStatDev } from '../kernel/dev-t.js';

export type DecodeOutput =
  | { type: 'event'; event: TraceEvent }
  | { type: 'issue'; issue: ParseIssue }
  /** All probes are attached (the script's "S ready" line); `probes` from attached_probes. */
  | { type: 'attached'; probes: number };

/** A head waits at most this many later records for its parts, then goes out incomplete. */
export const MAX_PENDING_AGE = 512;
/** Hard cap on heads waiting at once (bounds memory even if every part is lost). */
export const MAX_PENDING = 4096;

type FieldType = 'int' | 'hex' | 'file';
const SCHEMAS: Record<string, FieldType[]> = {
  exec_begin: ['hex'],
  exec: ['int', 'int', 'hex', 'int', 'int', 'file'],
  fork: ['int', 'int', 'int', 'hex'],
  mm_attach: ['int', 'hex', 'file'],
  mm_exit: ['hex', 'file'],
  exit: ['int', 'int'],
  mmap: ['hex', 'int', 'int', 'int', 'int', 'int', 'int', 'file'],
  munmap: ['hex', 'int', 'int', 'int'],
  mremap: ['hex', 'int', 'int', 'int', 'int', 'int'],
  mprotect: ['hex', 'int', 'int', 'int', 'int'],
  prctl_mm: ['hex', 'int', 'int', 'int', 'file', 'file'],
  exe_read: ['int', 'int'],
};
/** Printed by the scripts' BEGIN, which bpftrace runs once every probe is attached. */
const READY_RECORD = Buffer.from('S ready');

interface RawFile {
  file: Hex | null;
  dev: number;
  ino: number;
  ncomp: number;
}
type Field = number | Hex | RawFile;

interface Pending {
  kind: string;
  ts: number;
  pid: number;
  tid: number;
  nparts: number;
  fields: Field[];
  parts: Map<string, Buffer>;
  received: number;
  lineNo: number;
  raw: string;
  seq: number;
}

class LineError extends Error {}

export { kernelDevToStatDev };

function parseInt64(token: string, what: string): number {
  if (!/^-?[0-9]+$/.test(token)) throw new LineError(`${what}: "${token}" is not a decimal number`);
  const n = Number(token);
  if (!Number.isSafeInteger(n)) throw new LineError(`${what}: ${token} is too large to represent exactly`);
  return n;
}

function parseHex(token: string, what: string): Hex {
  if (!/^0x[0-9a-fA-F]{1,16}$/.test(token)) throw new LineError(`${what}: "${token}" is not a 0x-hex pointer`);
  return '0x' + BigInt(token).toString(16);
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

export class ProbeDecoder {
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private lastTs = 0;
  private attachedProbes = 0;

  constructor(private readonly source = 'bpftrace') {}

  push(line: string, lineNo: number): DecodeOutput[] {
    const out: DecodeOutput[] = [];
    // bpftrace prints blank lines on exit; they carry nothing.
    if (line.trim() === '') return out;
    this.seq++;
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
        out.push({ type: 'event', event: { kind: 'gap', source: 'bpftrace', lost: rec.events, ts: this.lastTs } });
        break;
      case 'other':
        out.push(this.issue(lineNo, `unexpected bpftrace record type "${rec.recordType}"`, line));
        break;
      case 'printf':
        try {
          this.record(rec.data, lineNo, line, out);
        } catch (err) {
          if (!(err instanceof LineError)) throw err;
          out.push(this.issue(lineNo, err.message, line));
        }
        break;
    }
    this.expire(out);
    return out;
  }

  /** Emits every head still waiting for parts (end of stream). */
  flush(): DecodeOutput[] {
    const out: DecodeOutput[] = [];
    for (const p of [...this.pending.values()]) this.emitIncomplete(p, out);
    return out;
  }

  private issue(line: number, cause: string, raw: string): DecodeOutput {
    return { type: 'issue', issue: { source: this.source, line, cause, raw } };
  }

  private record(data: Buffer, lineNo: number, raw: string, out: DecodeOutput[]): void {
    if (data.length === 0 || data[data.length - 1] !== 0x0a) throw new LineError('record does not end with a newline (truncated?)');
    const body = data.subarray(0, data.length - 1);
    if (body.equals(READY_RECORD)) {
      out.push({ type: 'attached', probes: this.attachedProbes });
      return;
    }
    if (body[0] === 0x48 /* H */ && body[1] === 0x20) this.head(body, lineNo, raw, out);
    else if (body[0] === 0x50 /* P */ && body[1] === 0x20) this.part(body, lineNo, raw, out);
    else throw new LineError('record is neither a head ("H ...") nor a part ("P ...")');
  }

  private head(body: Buffer, lineNo: number, raw: string, out: DecodeOutput[]): void {
    const text = body.toString('latin1');
    if (!/^[\x20-\x7e]*$/.test(text)) throw new LineError('head record holds non-printable bytes');
    const tok = text.split(' ').slice(1);
    const [kind, tsTok, pidTok, tidTok, npartsTok, ...rest] = tok;
    if (kind === undefined || npartsTok === undefined) throw new LineError('head record is too short');
    const schema = SCHEMAS[kind];
    if (!schema) throw new LineError(`unknown event kind "${kind}"`);
    const ts = parseInt64(tsTok!, 'ts');
    const pid = parseInt64(pidTok!, 'pid');
    const tid = parseInt64(tidTok!, 'tid');
    const nparts = parseInt64(npartsTok, 'nparts');
    if (nparts < 0 || nparts > 256) throw new LineError(`nparts ${nparts} out of range`);
    const want = schema.reduce((n, t) => n + (t === 'file' ? 4 : 1), 0);
    if (rest.length !== want) throw new LineError(`${kind} head has ${rest.length} fields after nparts, expected ${want}`);
    const fields: Field[] = [];
    let i = 0;
    schema.forEach((t, idx) => {
      const what = `${kind} field ${idx + 1}`;
      if (t === 'int') fields.push(parseInt64(rest[i++]!, what));
      else if (t === 'hex') fields.push(parseHex(rest[i++]!, what));
      else {
        const file = parseHex(rest[i++]!, `${what} (file)`);
        const dev = parseInt64(rest[i++]!, `${what} (dev)`);
        const ino = parseInt64(rest[i++]!, `${what} (ino)`);
        const ncomp = parseInt64(rest[i++]!, `${what} (ncomp)`);
        if (dev < 0 || ino < 0 || Math.abs(ncomp) > 64) throw new LineError(`${what}: file reference out of range`);
        fields.push({ file: file === '0x0' ? null : file, dev, ino, ncomp });
      }
    });
    this.lastTs = Math.max(this.lastTs, ts);
    const p: Pending = { kind, ts, pid, tid, nparts, fields, parts: new Map(), received: 0, lineNo, raw, seq: this.seq };
    const key = `${ts}:${tid}`;
    const clash = this.pending.get(key);
    if (clash) this.emitIncomplete(clash, out);
    if (nparts === 0) {
      this.emit(p, out);
      return;
    }
    this.pending.set(key, p);
  }

  private part(body: Buffer, lineNo: number, raw: string, out: DecodeOutput[]): void {
    // "P ts tid label <string>": split the first three spaces after "P "; the rest is the string.
    let pos = 2;
    const tokens: string[] = [];
    for (let k = 0; k < 3; k++) {
      const sp = body.indexOf(0x20, pos);
      if (sp < 0) throw new LineError('part record is too short');
      tokens.push(body.toString('latin1', pos, sp));
      pos = sp + 1;
    }
    const ts = parseInt64(tokens[0]!, 'part ts');
    const tid = parseInt64(tokens[1]!, 'part tid');
    const label = tokens[2]!;
    if (!/^[a-z]+(\.c[0-9]+)?$/.test(label)) throw new LineError(`bad part label "${label}"`);
    const p = this.pending.get(`${ts}:${tid}`);
    if (!p) throw new LineError(`part "${label}" has no head (ts ${ts}, tid ${tid}); its head was lost or already completed`);
    if (p.parts.has(label)) throw new LineError(`duplicate part "${label}" for ${p.kind} at ts ${ts}`);
    p.parts.set(label, Buffer.from(body.subarray(pos)));
    p.received++;
    if (p.received >= p.nparts) {
      this.pending.delete(`${ts}:${tid}`);
      this.emit(p, out);
    }
    void lineNo;
    void raw;
  }

  private expire(out: DecodeOutput[]): void {
    for (const p of this.pending.values()) {
      // Map iteration is insertion order, so the oldest come first.
      if (this.seq - p.seq <= MAX_PENDING_AGE && this.pending.size <= MAX_PENDING) break;
      this.emitIncomplete(p, out);
    }
  }

  private emitIncomplete(p: Pending, out: DecodeOutput[]): void {
    this.pending.delete(`${p.ts}:${p.tid}`);
    out.push(this.issue(p.lineNo, `${p.kind} at ts ${p.ts} tid ${p.tid}: ${p.received} of ${p.nparts} parts arrived; emitted with what arrived`, p.raw));
    this.emit(p, out);
  }

  /** readlink does not NUL-terminate: only the first `ret` bytes of the buffer are the answer. */
  private readlinkAnswer(p: Pending, ret: number): string {
    const b = p.parts.get('answer') ?? Buffer.alloc(0);
    return decodeKernelBytes(ret >= 0 && ret < b.length ? b.subarray(0, ret) : b);
  }

  private str(p: Pending, label: string): string {
    const b = p.parts.get(label);
    return b ? decodeKernelBytes(b) : '';
  }

  private fileRef(p: Pending, prefix: string, raw: RawFile): FileRef | null {
    if (raw.file === null) return null;
    const n = Math.abs(raw.ncomp);
    const comps: string[] = [];
    let complete = true;
    for (let i = 0; i < n; i++) {
      const b = p.parts.get(`${prefix}.c${i}`);
      if (!b) complete = false;
      else comps.push(decodeKernelBytes(b));
    }
    const truncated = raw.ncomp < 0;
    return {
      file: raw.file,
      dev: kernelDevToStatDev(raw.dev),
      ino: raw.ino,
      name: p.parts.has(`${prefix}.c0`) ? this.str(p, `${prefix}.c0`) : '',
      path: complete && !truncated ? '/' + comps.reverse().join('/') : null,
      pathTruncated: truncated,
    };
  }

  /** proc_exe_link prints its answer as a path walk, answer.c0 (leaf) ..; null if none or one is missing. */
  private answerPath(p: Pending): string | null {
    const n = [...p.parts.keys()].filter((l) => l.startsWith('answer.c')).length;
    if (n === 0) return null;
    const comps: string[] = [];
    for (let i = 0; i < n; i++) {
      if (!p.parts.has(`answer.c${i}`)) return null;
      comps.push(this.str(p, `answer.c${i}`));
    }
    return '/' + comps.reverse().join('/');
  }

  private emit(p: Pending, out: DecodeOutput[]): void {
    const f = p.fields;
    const num = (i: number) => f[i] as number;
    const hex = (i: number) => f[i] as Hex;
    const ptr = (i: number): Hex | null => (f[i] === '0x0' ? null : (f[i] as Hex));
    const file = (i: number, prefix: string) => this.fileRef(p, prefix, f[i] as RawFile);
    const base = { ts: p.ts, pid: p.pid, tid: p.tid, comm: this.str(p, 'comm') };
    let event: TraceEvent;
    switch (p.kind) {
      case 'exec_begin':
        event = { ...base, kind: 'exec_begin', oldMm: ptr(0), filename: this.str(p, 'filename'), interp: this.str(p, 'interp') };
        break;
      case 'exec':
        event = {
          ...base, kind: 'exec', oldTid: num(0), ppid: num(1), mm: hex(2), startCode: num(3), endCode: num(4),
          exe: file(5, 'exe'), filename: this.str(p, 'filename'),
        };
        break;
      case 'fork': {
        const flags = num(2);
        event = {
          ...base, kind: 'fork', childPid: num(0), childTid: num(1), cloneFlags: flags, parentMm: ptr(3),
          thread: (flags & CLONE_THREAD) !== 0, sharesMm: (flags & CLONE_VM) !== 0,
        };
        break;
      }
      case 'mm_attach':
        event = { ...base, kind: 'mm_attach', ppid: num(0), mm: hex(1), exe: file(2, 'exe') };
        break;
      case 'mm_exit':
        event = { ...base, kind: 'mm_exit', mm: hex(0), exe: file(1, 'exe') };
        break;
      case 'exit':
        event = { ...base, kind: 'exit', groupDead: num(0) !== 0, exitCode: num(1) };
        break;
      case 'mmap':
        event = {
          ...base, kind: 'mmap', mm: hex(0), addr: num(1), len: num(2), prot: num(3), flags: num(4), fd: num(5),
          pgoff: num(6), file: file(7, 'file'),
        };
        break;
      case 'munmap':
        event = { ...base, kind: 'munmap', mm: hex(0), addr: num(1), len: num(2), ret: num(3) };
        break;
      case 'mremap':
        event = { ...base, kind: 'mremap', mm: hex(0), oldAddr: num(1), oldLen: num(2), newLen: num(3), flags: num(4), ret: num(5) };
        break;
      case 'mprotect':
        event = { ...base, kind: 'mprotect', mm: hex(0), addr: num(1), len: num(2), prot: num(3), ret: num(4) };
        break;
      case 'prctl_mm':
        event = {
          ...base, kind: 'prctl_mm', mm: hex(0), subOption: num(1), exeFd: num(2), ret: num(3),
          exeBefore: file(4, 'before'), exeAfter: file(5, 'after'),
        };
        break;
      case 'exe_read': {
        const sys = EXE_READ_SYSCALLS[num(0)];
        if (!sys) {
          out.push(this.issue(p.lineNo, `exe_read: unknown syscall code ${num(0)}`, p.raw));
          return;
        }
        const path = this.str(p, 'path');
        const dirName = p.parts.has('dir') ? this.str(p, 'dir') : null;
        event = {
          ...base, kind: 'exe_read', syscall: sys, path, dirName, targetPid: resolveExeTarget(path, dirName, p.pid),
          ret: num(1), answer: p.parts.has('answer') ? this.readlinkAnswer(p, num(1)) : this.answerPath(p),
        };
        break;
      }
      default:
        // Unreachable: heads are checked against SCHEMAS.
        out.push(this.issue(p.lineNo, `unknown event kind "${p.kind}"`, p.raw));
        return;
    }
    out.push({ type: 'event', event });
  }
}
