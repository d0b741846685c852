// One sanitized line per event, for the non-TTY printer (bcc-tool style).
import { assertNever, type FileRef, type TraceEvent } from '../src/trace/events.js';
import { sanitizeForDisplay as s } from './sanitize-display.js';

export function fileLabel(f: FileRef | null): string {
  if (f === null) return '-';
  const p = f.path ?? f.name;
  return (f.pathTruncated ? '…' : '') + p;
}

// A replay prints a million lines whose files, comms and kinds repeat: each cell's text is made
// once. Readers share one FileRef per file (and interned strings), so identity finds the repeats.
const fileCells = new WeakMap<FileRef, string>();
const commCells = new Map<string, string>();
const kindCells = new Map<string, string>();
const MAX_COMM_CELLS = 4096;

function fileCell(f: FileRef | null): string {
  if (f === null) return '-';
  let cell = fileCells.get(f);
  if (cell === undefined) {
    cell = s(fileLabel(f));
    fileCells.set(f, cell);
  }
  return cell;
}

function commCell(comm: string): string {
  let cell = commCells.get(comm);
  if (cell === undefined) {
    if (commCells.size >= MAX_COMM_CELLS) commCells.clear();
    cell = s(comm).padEnd(16);
    commCells.set(comm, cell);
  }
  return cell;
}

function kindCell(kind: string): string {
  let cell = kindCells.get(kind);
  if (cell === undefined) {
    cell = kind.padEnd(13);
    kindCells.set(kind, cell);
  }
  return cell;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** The kind-specific part of a line; every kernel string is sanitized. */
export function eventDetail(e: TraceEvent): string {
  switch (e.kind) {
    case 'exec_begin':
      return `filename=${s(e.filename)} interp=${s(e.interp)} oldmm=${e.oldMm ?? '-'}`;
    case 'exec':
      return `mm=${e.mm} exe=${fileCell(e.exe)} filename=${s(e.filename)} ppid=${e.ppid}`;
    case 'fork':
      return `child=${e.childPid}/${e.childTid}${e.thread ? ' thread' : ''}${e.sharesMm ? ' shares-mm' : ''} mm=${e.parentMm ?? '-'}`;
    case 'mm_attach':
      return `mm=${e.mm} exe=${fileCell(e.exe)} ppid=${e.ppid}`;
    case 'mm_exit':
      return `mm=${e.mm} exe=${fileCell(e.exe)}`;
    case 'exit':
      return `code=${e.exitCode}${e.groupDead ? ' group-dead' : ''}`;
    case 'mmap':
      return `mm=${e.mm} addr=${hex(e.addr)} len=${e.len} prot=${e.prot} flags=${hex(e.flags)} file=${fileCell(e.file)}`;
    case 'munmap':
      return `mm=${e.mm} addr=${hex(e.addr)} len=${e.len} ret=${e.ret}`;
    case 'mremap':
      return `mm=${e.mm} old=${hex(e.oldAddr)}+${e.oldLen} new=${e.newLen} ret=${e.ret < 0 ? e.ret : hex(e.ret)}`;
    case 'mprotect':
      return `mm=${e.mm} addr=${hex(e.addr)} len=${e.len} prot=${e.prot} ret=${e.ret}`;
    case 'prctl_mm':
      return `mm=${e.mm} sub=${e.subOption} fd=${e.exeFd} ret=${e.ret} exe=${fileCell(e.exeBefore)} -> ${fileCell(e.exeAfter)}`;
    case 'exe_read':
      return `${e.syscall} path=${s(e.path)} target=${e.targetPid ?? '-'} ret=${e.ret} answer=${e.answer === null ? '-' : s(e.answer)}`;
    case 'proc_snapshot':
      return `${e.reason} exe=${e.exeLink === null ? `(${e.exeError ?? 'error'})` : s(e.exeLink)} maps=${e.maps.length}`;
    case 'gap':
      return `LOST ${e.lost} events (${e.source})`;
    default:
      return assertNever(e, 'event kind');
  }
}

export const EVENT_LINE_HEADER = `${'TIME'.padEnd(12)} ${'PID'.padStart(7)} ${'COMM'.padEnd(16)} ${'EVENT'.padEnd(13)} DETAIL`;

export function eventLine(e: TraceEvent, time: string): string {
  const pid = e.kind === 'gap' ? '-' : String(e.pid);
  const comm = e.kind === 'gap' ? commCell('-') : commCell(e.comm);
  return `${time.padEnd(12)} ${pid.padStart(7)} ${comm} ${kindCell(e.kind)} ${eventDetail(e)}`;
}
