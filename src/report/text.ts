// Plain-text output of analyze, for a terminal. Every kernel string passes through sanitize.
import { FINDING_CLASSES } from '../model/state.js';
import type { AnalyzeReport, ReportFinding, ReportMm, TraceSummary } from './analysis.js';
import { fileLine, hexAddr, requestLine, shownPath, timeString } from './format.js';
import { sanitize } from './sanitize.js';

/** What mm lines need besides the mm: the trace header, for wall-clock times. */
export interface MmContext {
  trace: Pick<TraceSummary, 'header'>;
}

/**
 * A report format in three parts, so mms can be written one by one while the trace is still
 * being read (the head needs final counts: analyze spools the mms until the end).
 */
export interface ReportFormat {
  /** Everything before the first mm; `mmCount` mms follow. */
  head(r: AnalyzeReport, mmCount: number): string;
  /** One mm; `first` for the first one written. */
  mm(m: ReportMm, ctx: MmContext, first: boolean): string;
  tail(r: AnalyzeReport, mmCount: number): string;
}

/** A whole report in one string, from its parts. */
export function renderWith(format: ReportFormat, r: AnalyzeReport): string {
  let out = format.head(r, r.mms.length);
  r.mms.forEach((m, i) => (out += format.mm(m, r, i === 0)));
  return out + format.tail(r, r.mms.length);
}

export const textFormat: ReportFormat = {
  head(r, mmCount) {
    const out: string[] = [];
    const t = r.trace;
    const h = t.header;
    out.push(`trace ${sanitize(t.file)}`);
    if (h)
      out.push(
        `  recorded ${sanitize(h.startedAt)} on ${sanitize(h.hostname)}, kernel ${sanitize(h.kernelRelease)}, flavor ${h.flavor}, bpftrace ${sanitize(h.bpftraceVersion)}`,
      );
    else out.push('  no header: the file does not start with a trace header');
    out.push(
      `  ${t.events} events, ${t.parseErrors} bad lines, ${t.lostEvents} lost events in ${t.gaps} gap(s)${t.truncated ? ', TRUNCATED (no trailer line): analysed up to the cut' : ''}`,
    );
    if (r.filters.pid !== null || r.filters.comm !== null) {
      out.push(
        `  filtered: ${r.filters.pid !== null ? `pid ${r.filters.pid} ` : ''}${r.filters.comm !== null ? `comm ${sanitize(r.filters.comm)}` : ''}`.trimEnd(),
      );
    }
    out.push('');
    out.push(
      `findings: ${r.counts.mismatch} mismatch, ${r.counts.note} note, ${r.counts.uncertain} uncertain; ${r.counts.unexpected} unexpected, ${r.counts.expected} expected (exceptions)`,
    );
    for (const c of FINDING_CLASSES) {
      const e = r.counts.expectedByClass[c];
      out.push(`  ${c.padEnd(15)} ${r.counts.byClass[c]}${e > 0 ? ` (${e} expected)` : ''}`);
    }
    if (r.dropped.findings > 0) out.push(`  (${r.dropped.findings} older findings not kept)`);
    out.push('');
    for (const f of r.findings) out.push(...findingLines(f, r));
    out.push(`mms: ${mmCount}${r.dropped.mms > 0 ? ` (${r.dropped.mms} ended mms not kept)` : ''}`);
    return `${out.join('\n')}\n`;
  },
  mm: (m, ctx) => `${mmLines(m, ctx).join('\n')}\n`,
  tail: () => '',
};

export function renderText(r: AnalyzeReport): string {
  return renderWith(textFormat, r);
}

function findingLines(f: ReportFinding, r: AnalyzeReport): string[] {
  const lines = [
    `[${f.kind}${f.uncertain ? ', uncertain' : ''}${f.expected !== null ? `, expected: ${sanitize(f.expected)}` : ''}] ${f.class}  pid ${f.pid} ${sanitize(f.comm)}  mm ${f.mm ?? '?'} (${sanitize(f.mmKey)})  at ${timeString(f.ts, r.trace)}`,
    `    asked:       ${sanitize(requestLine(f.request, f.comm))}`,
    `    exe:         ${sanitize(fileLine(f.exe))}`,
    `    vma walk:    ${sanitize(fileLine(f.vmaWalk, '(none known)'))}`,
    `    legacy walk: ${sanitize(fileLine(f.legacyWalk, '(none)'))}`,
  ];
  for (const rel of f.related) lines.push(`    ${rel.role}: ${sanitize(fileLine(rel.file))}${rel.address !== undefined ? ` at ${hexAddr(rel.address)}` : ''}`);
  lines.push(`    why: ${sanitize(f.explanation)}`);
  lines.push(`    evidence: ${f.evidence.map((e) => `${e.kind}@${e.ts}${e.line !== undefined ? ` (line ${e.line})` : ''}`).join(', ')}`);
  lines.push('');
  return lines;
}

function mmLines(m: ReportMm, r: MmContext): string[] {
  const lines = [
    `  ${sanitize(m.key)}  ${m.live ? 'live' : 'ended'}  pids ${m.pids.join(',')}  ${sanitize(m.comm)}  exe ${sanitize(fileLine(m.exe))}${m.gaps > 0 ? `  (${m.gaps} gap(s) while alive)` : ''}`,
  ];
  if (m.request.filename !== null || m.request.argv0 !== null) lines.push(`      asked: ${sanitize(requestLine(m.request, m.comm))}`);
  if (m.live && m.answerStatus !== null) lines.push(`      vma walk ${m.answerStatus}: ${sanitize(fileLine(m.vmaWalk, '(none known)'))}`);
  if (m.timelineDropped > 0) lines.push(`      (${m.timelineDropped} transitions not kept)`);
  for (const t of m.timeline) {
    lines.push(
      `      ${timeString(t.ts, r.trace)}  ${t.cause.padEnd(13)} ${t.exe ? sanitize(shownPath(t.exe)) : ''}${t.note ? `  (${sanitize(t.note)})` : ''}`.trimEnd(),
    );
  }
  return lines;
}
