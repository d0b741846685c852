// Small display helpers shared by the text and markdown writers (not for JSON).
import { devString } from '../kernel/dev-t.js';
import type { ExecRequest, FileAnswer, WalkAnswer } from '../model/state.js';
import type { TraceSummary } from './analysis.js';

export function hexAddr(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Raw (unsanitised) one-line description of a file answer; callers sanitise. */
export function fileLine(f: FileAnswer | WalkAnswer | null, unknownText = '(unknown)'): string {
  if (f === null) return unknownText;
  const at = 'address' in f ? ` at ${hexAddr(f.address)} ${f.perms}` : '';
  return `${shownPath(f)} [dev ${devString(f.dev)} ino ${f.ino}]${at}`;
}

/** A path cut at the probe's bound is marked with "…" before the tail that is known. */
export function shownPath(f: { path: string | null; name: string; pathTruncated?: boolean }): string {
  const p = f.path ?? f.name;
  return f.pathTruncated === true ? `…${p.startsWith('/') ? '' : '/'}${p}` : p;
}

/**
 * Raw (unsanitised) "what was asked for" next to what runs: execve's filename (the script for
 * #!, with the interpreter the kernel ran), argv[0] and comm. Callers sanitise.
 */
export function requestLine(r: ExecRequest, comm: string): string {
  const script = r.filename !== null && r.interp !== null && r.interp !== r.filename;
  const parts = [
    script ? `script ${r.filename} (interpreter ${r.interp})` : `filename ${r.filename ?? '(unknown)'}`,
    `argv[0] ${r.argv0 === null ? '(unknown)' : JSON.stringify(r.argv0)}`,
    `comm ${JSON.stringify(comm)}`,
  ];
  return parts.join(', ');
}

/** Kernel monotonic ns → wall-clock ms, by a trace header's clock reference. */
export function wallClockMs(tsNs: number, clockRef: { monotonicNs: number; wallMs: number }): number {
  return clockRef.wallMs + (tsNs - clockRef.monotonicNs) / 1e6;
}

/** Kernel monotonic ns → wall time, when the header's clock reference allows it. */
export function timeString(ts: number, trace: Pick<TraceSummary, 'header'>): string {
  const ref = trace.header?.clockRef;
  if (!ref) return `${(ts / 1e9).toFixed(6)}s`;
  const wall = wallClockMs(ts, ref);
  return Number.isFinite(wall) ? isoTime(wall) : `${ts}ns`;
}

// Reports print thousands of times within the same second: format the second once.
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/** new Date(ms).toISOString(), reusing the text of the last second asked for. */
export function isoTime(ms: number): string {
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
