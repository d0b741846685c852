// Which finding classes each probe flavor can feed, and through which events. Every flavor prints
// the same event kinds (docs/line-protocol.md), so each class is reachable from each flavor that
// loads; what differs is the kernel hook behind the events, which `doctor` shows.
import { FINDING_CLASS_TABLE, FINDING_CLASSES, type FindingClass, type FlavorHooks } from '../model/finding-classes.js';
import type { Flavor } from '../trace/trace-format.js';

export interface ClassSupport {
  findingClass: FindingClass;
  /** The evidence the model needs for this class. */
  needs: string;
}

const HOOKS = {
  tracepoint: { exec: 'sched:sched_process_exec', teardown: 'mmap:exit_mmap', unmap: 'munmap/mremap syscalls' },
  kprobe: {
    exec: 'kprobe:finalize_exec after begin_new_exec',
    teardown: 'kprobe:mmput (final put)',
    unmap: 'munmap/mremap syscalls + kprobe:remove_vma (vm_area_free where inlined)',
  },
  kfunc: {
    exec: 'kfunc:finalize_exec after begin_new_exec',
    teardown: 'kfunc:mmput (final put)',
    unmap: 'munmap/mremap syscalls + kfunc:remove_vma (vm_area_free where inlined)',
  },
} as const satisfies Record<Flavor, FlavorHooks>;

export function classSupport(flavor: Flavor): ClassSupport[] {
  return FINDING_CLASSES.map((c) => ({ findingClass: c, needs: FINDING_CLASS_TABLE[c].needs(HOOKS[flavor]) }));
}

/** Classes a flavor detects on this host: all of them if it loads, none if it does not. */
export function detectableHere(flavor: Flavor, loads: boolean | null): FindingClass[] {
  return loads === true ? classSupport(flavor).map((c) => c.findingClass) : [];
}
