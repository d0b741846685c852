// Fixed-width text cells for the terminal. Every kernel string passes through the sanitizer
// here, so no component can forget it.
import { isoTime, wallClockMs } from '../src/report/format.js';
import { sanitizeForDisplay } from './sanitize-display.js';

/** Sanitize, then cut or pad to exactly `width` code points ("…" marks a cut). */
export function cell(raw: string, width: number, align: 'left' | 'right' = 'left'): string {
  const chars = [...sanitizeForDisplay(raw)];
  if (width <= 0) return '';
  const fitted = chars.length > width ? [...chars.slice(0, width - 1), '…'] : chars;
  const pad = ' '.repeat(width - fitted.length);
  return align === 'left' ? fitted.join('') + pad : pad + fitted.join('');
}

/** Sanitize and cut to at most `width` code points, no padding. */
export function clip(raw: string, width: number): string {
  const chars = [...sanitizeForDisplay(raw)];
  if (chars.length <= width) return chars.join('');
  return [...chars.slice(0, Math.max(0, width - 1)), '…'].join('');
}

/** Event time as wall-clock HH:MM:SS.mmm when the clock reference is known, else seconds. */
export function formatTs(tsNs: number, clockRef: { monotonicNs: number; wallMs: number } | null): string {
  if (clockRef === null) return `${(tsNs / 1e9).toFixed(3)}s`;
  const ms = Math.floor(wallClockMs(tsNs, clockRef));
  // Busy traces have many events per millisecond.
  if (ms !== lastMs) {
    lastMs = ms;
    lastTime = isoTime(ms).slice(11, 23);
  }
  return lastTime;
}
let lastMs = Number.NaN;
let lastTime = '';

export function formatAddr(n: number): string {
  return n.toString(16).padStart(12, '0');
}
