// Small display helpers shared by the text and markdown writers (not for JSON).
import type { FileAnswer, WalkAnswer } from '../model/state.js';
import type { TraceSummary } from './analysis.js';

// A report names the same few devices over and over: remember their text.
const devText = new Map<number, string>();
const DEV_TEXT_MAX = 4096;

/** st_dev (userspace encoding) as major:minor, like /proc/PID/maps prints it. */
export function devString(dev: number): string {
  let text = devText.get(dev);
  if (text === undefined) {
    text = computeDevString(dev);
    if (devText.size >= DEV_TEXT_MAX) devText.clear();
    devText.set(dev, text);
  }
  return text;
}

function computeDevString(dev: number): string {
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
  return Number.isFinite(wall) ? isoTime(wall) : `${ts}ns`;
}

// Reports print thousands of times within the same second: format the second once.
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/** new Date(ms).toISOString(), reusing the text of the last second asked for. */
function isoTime(ms: number): string {
  const whole = Math.floor(ms);
  const second = Math.floor(whole / 1000);
  const iso = second === cachedSecond ? null : new Date(whole).toISOString();
  // Only plain four-digit years have the fixed "YYYY-MM-DDTHH:MM:SS.sssZ" layout.
  if (iso !== null) {
    if (iso.length !== 24) return iso;
    cachedSecond = second;
    cachedPrefix = iso.slice(0, 20);
    return iso;
  }
  const milli = whole - second * 1000;
  return `${cachedPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
