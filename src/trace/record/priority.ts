// The reader must not be starved by the workload it traces: when an exec storm keeps every
// core busy at nice 0, bpftrace (reading the perf rings) and the collector (reading bpftrace)
// fall behind and the rings overflow. Both run at a higher CPU priority (root may lower nice);
// the traced programs then wait a little instead of events being lost.
import { getPriority, setPriority } from 'node:os';

/** The nice value a recording runs at (lower is more CPU). */
export const RECORDING_NICE = -10;

/** Raise `pid` (0: this process) to RECORDING_NICE unless it already runs higher; false when not allowed. */
export function raisePriority(pid = 0): boolean {
  try {
    if (getPriority(pid) <= RECORDING_NICE) return true;
    setPriority(pid, RECORDING_NICE);
    return true;
  } catch {
    return false;
  }
}
