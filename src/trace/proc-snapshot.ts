// A userspace look at /proc/<pid>: the exe link and its identity, and the executable
// mappings, as a ProcSnapshotEvent. Processes vanish at any moment: every read failure is an
// error name in the result, never a throw.
import { readdirSync, readFileSync, readlinkSync, statfsSync, statSync } from 'node:fs';
import type { ElfKind, MapsEntry, ProcSnapshotEvent, SnapshotReason } from './events.js';
import { elfKindOfFile } from './elf-kind.js';
import { makedev } from '../kernel/dev-t.js';
import { exeKernelId } from './kernel-file-id.js';
import { decodeKernelBytes } from './kernel-string.js';

export type { SnapshotReason };

export { makedev };

/** CLOCK_MONOTONIC in ns: the clock of bpftrace's nsecs, so snapshots sort with events. */
export const monotonicNs = (): number => Number(process.hrtime.bigint());

const MAPS_LINE = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) ([0-9a-f]+):([0-9a-f]+) (\d+)(?: +(.*))?$/;

/**
 * Parse one /proc/<pid>/maps line, or null if it does not look like one. The path is
 * everything after the inode field: it may hold spaces and end in " (deleted)". The kernel
 * writes a newline in a name as "\012"; we turn it back into a newline.
 */
export function parseMapsLine(line: string): MapsEntry | null {
  const m = MAPS_LINE.exec(line);
  if (!m) return null;
  return {
    start: parseInt(m[1]!, 16),
    end: parseInt(m[2]!, 16),
    perms: m[3]!,
    offset: parseInt(m[4]!, 16),
    dev: makedev(parseInt(m[5]!, 16), parseInt(m[6]!, 16)),
    ino: Number(m[7]!),
    path: (m[8] ?? '').replace(/\\012/g, '\n'),
  };
}

/**
 * Keep file-backed executable mappings, every mapping of the exe's (dev, ino), and the mapping at
 * the interpreter's base (AT_BASE, whatever its permissions: it names the ELF interpreter).
 */
export function selectMaps(entries: readonly MapsEntry[], exe: { dev: number; ino: number } | null, interpBase: number | null = null): MapsEntry[] {
  return entries.filter(
    (e) =>
      (e.ino !== 0 && (e.perms[2] === 'x' || (interpBase !== null && interpBase > 0 && e.start === interpBase))) ||
      (exe !== null && e.ino === exe.ino && e.dev === exe.dev),
  );
}

/**
 * Nothing mapped but, at most, the stack: the process is exiting (its mm released) or inside
 * exec, between exe_file being set and the new ELF being mapped (seen under TCG: a snapshot with
 * the new exe and only [stack]). A program that runs has its code mapped somewhere, file-backed
 * or anonymous, so this never hides an unmapped text.
 */
export function holdsNoImage(entries: readonly MapsEntry[]): boolean {
  return entries.every((e) => e.path === '[stack]');
}

export function parseMaps(bytes: Uint8Array): { entries: MapsEntry[]; bad: number } {
  const entries: MapsEntry[] = [];
  let bad = 0;
  for (const line of decodeKernelBytes(bytes).split('\n')) {
    if (line === '') continue;
    const e = parseMapsLine(line);
    if (e) entries.push(e);
    else bad++;
  }
  return { entries, bad };
}

const errName = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? 'EIO';

export type SnapshotResult = { ok: true; event: ProcSnapshotEvent } | { ok: false; pid: number; error: string };

/** Snapshot one process (by thread-group id). Fails only when the process is gone or unreadable. */
export function snapshotProcess(pid: number, reason: SnapshotReason, procRoot = '/proc'): SnapshotResult {
  const ts = monotonicNs();
  const dir = `${procRoot}/${pid}`;
  let comm: string;
  let tgid = pid;
  try {
    comm = decodeKernelBytes(readFileSync(`${dir}/comm`)).replace(/\n$/, '');
    const status = readFileSync(`${dir}/status`, 'latin1');
    const t = /^Tgid:\s*(\d+)/m.exec(status);
    if (t) tgid = Number(t[1]);
  } catch (err) {
    return { ok: false, pid, error: errName(err) };
  }
  let exeLink: string | null = null;
  let exeError: string | null = null;
  let exeDev: number | null = null;
  let exeIno: number | null = null;
  let exeStat: { dev: number; ino: number } | null = null;
  let exeNlink: number | null = null;
  let exeMountListed: boolean | null = null;
  try {
    exeLink = decodeKernelBytes(readlinkSync(`${dir}/exe`, { encoding: 'buffer' }));
    const id = exeKernelId(pid, procRoot);
    exeDev = id.dev;
    exeIno = id.ino;
    exeStat = { dev: id.statDev, ino: id.statIno };
    exeNlink = id.nlink;
    exeMountListed = id.mountListed;
  } catch (err) {
    // ENOENT for kernel threads and zombies; a deleted exe still stats through the link.
    exeError = errName(err);
  }
  const facts = exeStat !== null ? structureFacts(dir, reason) : NO_FACTS;
  let maps: MapsEntry[];
  try {
    const parsed = parseMaps(readFileSync(`${dir}/maps`));
    // An exe but no image mapped: not "text unmapped" (kernel threads have no exe and are kept).
    if (exeLink !== null && holdsNoImage(parsed.entries)) return { ok: false, pid, error: 'EXITING_OR_IN_EXEC' };
    maps = selectMaps(parsed.entries, exeDev !== null && exeIno !== null ? { dev: exeDev, ino: exeIno } : null, facts.interpBase ?? null);
  } catch (err) {
    // Gone between reads: a snapshot without its maps would look like "text unmapped".
    return { ok: false, pid, error: errName(err) };
  }
  // The exe link and the maps are two reads: an exec in between would pair one image's exe with
  // the next image's maps. Read the exe again and drop the snapshot if it moved.
  if (exeStat !== null && !sameExeAfter(`${dir}/exe`, exeStat)) return { ok: false, pid, error: 'EXEC_RACE' };
  return {
    ok: true,
    event: { kind: 'proc_snapshot', ts, pid: tgid, tid: pid, comm, reason, exeLink, exeError, exeDev, exeIno, maps, exeNlink, exeMountListed, ...facts },
  };
}

type StructureFacts = Pick<ProcSnapshotEvent, 'interpBase' | 'exeElf' | 'exeFsMagic' | 'startCode' | 'endCode'>;
const NO_FACTS: StructureFacts = { interpBase: null, exeElf: null, exeFsMagic: null, startCode: null, endCode: null };
/** AT_BASE in the auxv: the ELF interpreter's load address. */
const AT_BASE = 7n;

/** What the finding rules need to know about the image without trusting any name. */
function structureFacts(dir: string, reason: SnapshotReason): StructureFacts {
  const interpBase = readAuxvBase(`${dir}/auxv`);
  let exeElf: ElfKind | null = interpBase !== null && interpBase > 0 ? 'dynamic' : null;
  // Only an image the kernel mapped no interpreter for needs its ELF read (static or a loader).
  if (interpBase === 0) exeElf = tryOr(() => elfKindOfFile(`${dir}/exe`), null);
  const exeFsMagic = tryOr(() => Number(statfsSync(`${dir}/exe`).type), null);
  // Start-up processes have no exec event: their text range comes from /proc/pid/stat.
  const code = reason === 'startup' ? tryOr(() => codeRange(readFileSync(`${dir}/stat`, 'latin1')), null) : null;
  return { interpBase, exeElf, exeFsMagic, startCode: code?.[0] ?? null, endCode: code?.[1] ?? null };
}

function tryOr<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

/** AT_BASE from a 64-bit auxv (pairs of u64), or null when unreadable or absent. */
export function readAuxvBase(path: string): number | null {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    return null;
  }
  for (let o = 0; o + 16 <= buf.length; o += 16) {
    const type = buf.readBigUInt64LE(o);
    if (type === 0n) break;
    if (type === AT_BASE) return Number(buf.readBigUInt64LE(o + 8));
  }
  return null;
}

/** startcode and endcode (fields 26 and 27) of /proc/pid/stat; the comm may hold spaces and ")". */
export function codeRange(stat: string): [number, number] | null {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  const start = Number(rest[23]);
  const end = Number(rest[24]);
  return Number.isSafeInteger(start) && Number.isSafeInteger(end) ? [start, end] : null;
}

/** One stat is enough to tell the exe is still the same file: no second mountinfo read. */
function sameExeAfter(exeLinkPath: string, before: { dev: number; ino: number }): boolean {
  try {
    const again = statSync(exeLinkPath);
    return again.dev === before.dev && again.ino === before.ino;
  } catch {
    return false;
  }
}

export interface SnapshotFilter {
  pid: number | null;
  comm: string | null;
}

/** Every running process (numeric /proc entries are thread groups), in pid order. */
export function snapshotAll(filter: SnapshotFilter = { pid: null, comm: null }, procRoot = '/proc'): { events: ProcSnapshotEvent[]; vanished: number } {
  const pids = readdirSync(procRoot)
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((p) => filter.pid === null || p === filter.pid)
    .sort((a, b) => a - b);
  const events: ProcSnapshotEvent[] = [];
  let vanished = 0;
  for (const pid of pids) {
    const r = snapshotProcess(pid, 'startup', procRoot);
    if (!r.ok) vanished++;
    else if (filter.comm === null || r.event.comm === filter.comm) events.push(r.event);
  }
  return { events, vanished };
}

/** Identity of each snapshotted process's exe, to find what changed later. */
export type ExeIndex = Map<number, string>;

const exeKey = (e: ProcSnapshotEvent): string => `${e.exeDev ?? '-'}:${e.exeIno ?? '-'}:${e.exeError ?? ''}`;

export function indexSnapshots(events: readonly ProcSnapshotEvent[]): ExeIndex {
  return new Map(events.map((e) => [e.pid, exeKey(e)]));
}

/**
 * Processes that appeared, or whose exe changed, since `before` was taken: the ones that
 * started or exec'd while bpftrace was still compiling (seconds), and so have no exec event.
 */
export function snapshotChangedSince(before: ExeIndex, filter: SnapshotFilter = { pid: null, comm: null }, procRoot = '/proc'): ProcSnapshotEvent[] {
  return snapshotAll(filter, procRoot).events.filter((e) => before.get(e.pid) !== exeKey(e));
}
