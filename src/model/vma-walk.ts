// The two VMA-walk answers the kernel used to give for /proc/PID/exe, computed from the VMAs
// the model knows (snapshots + mapping events). Files are matched by (dev, ino) only.
import { sameFile } from './files.js';
import type { Mapping, MmRecord } from './state.js';
import { isExecutable } from './vma-set.js';

/**
 * The VMA walk (what proc_exe_link did before 2.6.26, as users remember it): the lowest-address
 * mapping that is file-backed and executable. Every tracked mapping is file-backed.
 * null when the model has no maps data for the mm, or none is executable.
 */
export function vmaWalk(mm: Pick<MmRecord, 'mappings' | 'mapsKnowledge'>): Mapping | null {
  if (mm.mapsKnowledge === 'none') return null;
  for (const m of mm.mappings) if (isExecutable(m)) return m;
  return null;
}

/**
 * The literal pre-2.6.26 answer: the first VMA flagged VM_EXECUTABLE. The binfmt loader set it
 * on every segment it mapped from the exec'd file, whatever the perms; a mapping the program
 * made itself with mmap(2) never had it. null when no such VMA remains (or nothing is known).
 */
export function legacyWalk(mm: Pick<MmRecord, 'mappings' | 'mapsKnowledge' | 'execFile'>): Mapping | null {
  if (mm.mapsKnowledge === 'none' || mm.execFile === null) return null;
  for (const m of mm.mappings) if (m.origin !== 'mmap' && sameFile(m.file, mm.execFile)) return m;
  return null;
}

/** Lowest start of any mapping of the exe_file (any perms), or null. */
export function exeLowest(mm: Pick<MmRecord, 'mappings' | 'exe'>): number | null {
  for (const m of mm.mappings) if (sameFile(m.file, mm.exe)) return m.start;
  return null;
}
