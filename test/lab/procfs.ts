// Direct reads of /proc/<pid> for the lab's own checks: no tracer, no collector involved.
import { readFileSync, readlinkSync, statSync } from 'node:fs';

export interface ProcMapping {
  start: number;
  end: number;
  perms: string;
  offset: number;
  /** Userspace st_dev encoding (glibc makedev), comparable with stat(). */
  dev: number;
  ino: number;
  /** As printed by the kernel (newlines appear as \012); empty for anonymous mappings. */
  path: string;
}

import { makedev } from '../../src/kernel/dev-t.js';

export { makedev };

export function readMaps(pid: number): ProcMapping[] {
  const text = readFileSync(`/proc/${pid}/maps`, 'latin1');
  const out: ProcMapping[] = [];
  for (const line of text.split('\n')) {
    const m = line.match(/^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) ([0-9a-f]+):([0-9a-f]+) (\d+)\s*(.*)$/);
    if (!m) continue;
    out.push({
      start: parseInt(m[1]!, 16),
      end: parseInt(m[2]!, 16),
      perms: m[3]!,
      offset: parseInt(m[4]!, 16),
      dev: makedev(parseInt(m[5]!, 16), parseInt(m[6]!, 16)),
      ino: Number(m[7]),
      path: m[8]!,
    });
  }
  return out;
}

/** The modern VMA walk: the lowest-address mapping that is file-backed (ino != 0) and executable. */
export function firstFileBackedExec(maps: ProcMapping[]): ProcMapping | null {
  return maps.find((m) => m.ino !== 0 && m.perms[2] === 'x') ?? null;
}

/** The pre-2.6.26 answer as far as maps shows it: the lowest mapping of the exec'd file, if any. */
export function legacyWalk(maps: ProcMapping[], dev: number, ino: number): ProcMapping | null {
  return maps.find((m) => m.dev === dev && m.ino === ino) ?? null;
}

export function mappingsOf(maps: ProcMapping[], dev: number, ino: number): ProcMapping[] {
  return maps.filter((m) => m.dev === dev && m.ino === ino);
}

export interface ExeView {
  link: Buffer;
  dev: number;
  ino: number;
}

export function readExe(pid: number): ExeView {
  const st = statSync(`/proc/${pid}/exe`);
  return { link: readlinkSync(`/proc/${pid}/exe`, { encoding: 'buffer' }), dev: st.dev, ino: st.ino };
}

export function readComm(pid: number): Buffer {
  return readFileSync(`/proc/${pid}/comm`);
}

/** Process state letter from /proc/<pid>/stat, or null when the process is gone. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}
