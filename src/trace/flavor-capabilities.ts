// Which finding classes each probe flavor can feed, and through which events. Every flavor prints
// the same event kinds (docs/line-protocol.md), so each class is reachable from each flavor that
// loads; what differs is the kernel hook behind the events, which `doctor` shows.
import type { Flavor } from './trace-format.js';
import type { FindingClass } from '../model/state.js';

export interface ClassSupport {
  findingClass: FindingClass;
  /** The evidence the model needs for this class. */
  needs: string;
}

const EXEC_HOOK: Record<Flavor, string> = {
  tracepoint: 'sched:sched_process_exec',
  kprobe: 'kprobe:finalize_exec after begin_new_exec',
  kfunc: 'kfunc:finalize_exec after begin_new_exec',
};

const TEARDOWN_HOOK: Record<Flavor, string> = {
  tracepoint: 'mmap:exit_mmap',
  kprobe: 'kprobe:mmput (final put)',
  kfunc: 'kfunc:mmput (final put)',
};

const UNMAP_HOOK: Record<Flavor, string> = {
  tracepoint: 'munmap/mremap syscalls',
  kprobe: 'munmap/mremap syscalls + kprobe:remove_vma (vm_area_free where inlined)',
  kfunc: 'munmap/mremap syscalls + kfunc:remove_vma (vm_area_free where inlined)',
};

export function classSupport(flavor: Flavor): ClassSupport[] {
  return [
    { findingClass: 'loader-exec', needs: `exec (${EXEC_HOOK[flavor]}) + executable mmaps + a /proc maps snapshot` },
    { findingClass: 'decoy-mapping', needs: 'executable mmaps (MAP_FIXED) + a /proc maps snapshot' },
    { findingClass: 'text-unmapped', needs: `${UNMAP_HOOK[flavor]} + a /proc maps snapshot` },
    { findingClass: 'stacked-fs', needs: `exe_file's superblock device at exec (${EXEC_HOOK[flavor]}) + a /proc maps snapshot` },
    { findingClass: 'exe-replaced', needs: 'prctl(PR_SET_MM) with exe_file before and after' },
    { findingClass: 'exe-memfd', needs: `exe_file at exec or teardown (${TEARDOWN_HOOK[flavor]})` },
    { findingClass: 'exe-deleted', needs: 'the exe link from a /proc snapshot (at exe reads)' },
  ];
}

/** Classes a flavor detects on this host: all of them if it loads, none if it does not. */
export function detectableHere(flavor: Flavor, loads: boolean | null): FindingClass[] {
  return loads === true ? classSupport(flavor).map((c) => c.findingClass) : [];
}
