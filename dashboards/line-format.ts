// The text of the non-TTY output, line by line: shared by the line printer and its threaded
// form (line-print-worker.ts), so both print exactly the same thing.
import type { TraceEvent } from '../src/trace/events.js';
import type { TraceHeader, TraceTrailer } from '../src/trace/trace-format.js';
import type { FindingRow } from './display-types.js';
import { EVENT_LINE_HEADER, eventLine } from './event-line.js';
import { formatTs } from './format.js';
import { sanitizeForDisplay as s } from './sanitize-display.js';

export type ClockRef = TraceHeader['clockRef'] | null;

export function headerLines(h: TraceHeader): string {
  return `# exetrace ${s(h.toolVersion)} flavor ${h.flavor} kernel ${s(h.kernelRelease)} host ${s(h.hostname)} started ${s(h.startedAt)}\n${EVENT_LINE_HEADER}\n`;
}

export function eventText(e: TraceEvent, clockRef: ClockRef): string {
  return `${eventLine(e, formatTs(e.ts, clockRef))}\n`;
}

export function findingText(f: FindingRow, clockRef: ClockRef): string {
  const mark = f.uncertain ? 'FINDING?' : 'FINDING';
  return (
    `${formatTs(f.ts, clockRef).padEnd(12)} ${String(f.pid).padStart(7)} ${s(f.comm).padEnd(16)} ${mark.padEnd(13)} ` +
    `${s(f.class)}${f.expected !== null ? ` expected=${s(f.expected)}` : ''} exe=${s(f.exe)} vma-walk=${s(f.vmaWalk) || '-'} legacy-walk=${s(f.legacyWalk) || '-'} mm=${f.mm}: ${s(f.explanation)}\n`
  );
}

export function issueText(i: { source: string; line: number; cause: string }): string {
  return `exetrace: ${s(i.source)}:${i.line}: ${s(i.cause)}\n`;
}

export function endText(t: TraceTrailer, findings: number): string {
  return `# end: ${t.reason}${t.error !== null ? ` (${s(t.error)})` : ''}, ${t.events} events, ${t.lostEvents} lost, ${findings} findings\n`;
}
