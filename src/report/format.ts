// Small display helpers shared by the text and markdown writers (not for JSON).
import type { FileAnswer, WalkAnswer } from '../model/state.js';
import type { TraceSummary } from './analysis.js';

/** st_dev (userspace encoding) as major:minor, like /proc/PID/maps prints it. */
export function devString(dev: number): string {
  const major = Number((BigInt(dev) >> 8n) & 0xfffn) | Number((BigInt(dev) >> 32n) & ~0xfffn);
  const minor = Number(BigInt(dev) & 0xffn) | Number((BigInt(dev) >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

export function hexAddr(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Raw (unsanitised) one-line description of a file answer; callers sanitise. */
export function fileLine(f: FileAnswer | WalkAnswer | null, unknownText = '(unknown)'): string {
  if (f === null) return unknownText;
  const at = 'address' in f ? ` at ${hexAddr(f.address)} ${f.perms}` : '';
  return `${f.path ?? f.name} [dev ${devString(f.dev)} ino ${f.ino}]${at}`;
}

/** Kernel monotonic ns → wall time, when the header's clock reference allows it. */
export function timeString(ts: number, trace: Pick<TraceSummary, 'header'>): string {
  const ref = trace.header?.clockRef;
  if (!ref) return `${(ts / 1e9).toFixed(6)}s`;
  const wall = ref.wallMs + (ts - ref.monotonicNs) / 1e6;
  return Number.isFinite(wall) ? new Date(wall).toISOString() : `${ts}ns`;
}
