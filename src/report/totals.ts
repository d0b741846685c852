// The totals of a report over several traces, and the shape every report writer has: one section
// per trace (ReportFormat), inside a document that begins, separates and ends them.
import { FINDING_CLASSES, type FindingClass } from '../model/state.js';
import type { AnalyzeReport } from './analysis.js';
import type { ReportFormat } from './text.js';

export interface TraceTotals {
  traces: number;
  /** Files that were not readable traces (no valid header): listed, not counted below. */
  unreadable: number;
  truncated: number;
  events: number;
  parseErrors: number;
  lostEvents: number;
  gaps: number;
  counts: { total: number; mismatch: number; note: number; uncertain: number; byClass: Record<FindingClass, number> };
}

export interface ReportTotals extends TraceTotals {
  /** Per host (the header's hostname) of the readable traces, in order of first appearance. */
  hosts: ({ hostname: string; files: string[] } & TraceTotals)[];
}

function empty(): TraceTotals {
  const byClass = Object.fromEntries(FINDING_CLASSES.map((c) => [c, 0])) as Record<FindingClass, number>;
  return {
    traces: 0,
    unreadable: 0,
    truncated: 0,
    events: 0,
    parseErrors: 0,
    lostEvents: 0,
    gaps: 0,
    counts: { total: 0, mismatch: 0, note: 0, uncertain: 0, byClass },
  };
}

function add(t: TraceTotals, r: AnalyzeReport): void {
  t.traces++;
  if (r.trace.header === null) {
    t.unreadable++;
    return;
  }
  if (r.trace.truncated) t.truncated++;
  t.events += r.trace.events;
  t.parseErrors += r.trace.parseErrors;
  t.lostEvents += r.trace.lostEvents;
  t.gaps += r.trace.gaps;
  t.counts.total += r.counts.total;
  t.counts.mismatch += r.counts.mismatch;
  t.counts.note += r.counts.note;
  t.counts.uncertain += r.counts.uncertain;
  for (const c of FINDING_CLASSES) t.counts.byClass[c] += r.counts.byClass[c];
}

export function totalsOf(reports: readonly AnalyzeReport[]): ReportTotals {
  const all: ReportTotals = { ...empty(), hosts: [] };
  for (const r of reports) {
    add(all, r);
    if (r.trace.header === null) continue;
    const hostname = r.trace.header.hostname;
    let host = all.hosts.find((h) => h.hostname === hostname);
    if (host === undefined) {
      host = { hostname, files: [], ...empty() };
      all.hosts.push(host);
    }
    host.files.push(r.trace.file);
    add(host, r);
  }
  return all;
}

/**
 * A whole report: `begin`, then one section per trace (each written by a fresh ReportFormat, as
 * it may keep state across its mms), `between` sections, then `end` with the totals. With one
 * trace every writer prints exactly the single-trace report.
 */
export interface ReportDocument {
  begin(traces: number): string;
  section(index: number, traces: number): ReportFormat;
  between: string;
  end(totals: ReportTotals, traces: number): string;
}
