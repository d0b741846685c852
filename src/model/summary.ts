// The short end-of-run summary the recorder prints, and the counts it is built from.
import { sanitize } from '../report/sanitize.js';
import { displayName } from './files.js';
import { FINDING_CLASSES, type FindingClass, type ModelState } from './state.js';

export interface FindingsSummary {
  total: number;
  mismatches: number;
  notes: number;
  uncertain: number;
  byClass: Record<FindingClass, number>;
  liveMms: number;
  endedMms: number;
  lostEvents: number;
  gaps: number;
}

export function findingsSummary(state: ModelState): FindingsSummary {
  const byClass = { ...state.findingCounts };
  const notes = byClass['exe-deleted'] + byClass['exe-memfd'];
  const total = FINDING_CLASSES.reduce((n, c) => n + byClass[c], 0);
  return {
    total,
    mismatches: total - notes,
    notes,
    uncertain: state.findings.filter((f) => f.uncertain).length,
    byClass,
    liveMms: state.mms.size,
    endedMms: state.endedTotal,
    lostEvents: state.counters.lostEvents,
    gaps: state.gapSeq,
  };
}

/** A few lines for a terminal: counts per class and the first findings. Sanitised. */
export function summarizeFindings(state: ModelState, maxListed = 10): string {
  const s = findingsSummary(state);
  const lines: string[] = [];
  lines.push(`findings: ${s.mismatches} mismatch, ${s.notes} note${s.uncertain > 0 ? ` (${s.uncertain} uncertain: lost events)` : ''}; mms: ${s.liveMms} live, ${s.endedMms} ended`);
  const counts = FINDING_CLASSES.filter((c) => s.byClass[c] > 0).map((c) => `${c}=${s.byClass[c]}`);
  if (counts.length > 0) lines.push(`  ${counts.join('  ')}`);
  for (const f of state.findings.slice(0, maxListed)) {
    lines.push(`  ${f.class}${f.uncertain ? '?' : ''} pid ${f.pid} ${sanitize(f.comm)}: exe ${sanitize(displayName(f.exe))}, vma walk ${sanitize(displayName(f.vmaWalk))}`);
  }
  if (state.findings.length > maxListed) lines.push(`  … ${state.findings.length - maxListed} more (exetrace analyze FILE)`);
  if (s.lostEvents > 0) lines.push(`  ${s.lostEvents} events lost in ${s.gaps} gap(s): findings across a gap are marked uncertain`);
  return lines.join('\n');
}

/**
 * The recorder's hook: analyse a finished trace file and return the summary text. Loaded
 * lazily so this module (and the model) imports no I/O code.
 */
export async function summarize(tracePath: string): Promise<string> {
  const { analyzeTrace } = await import('../report/analyze-trace.js');
  // Ended mms are not summarised: let them go as they end.
  const { state } = await analyzeTrace(tracePath, { onEndedMm: () => {} });
  return summarizeFindings(state);
}
