// The counts behind the end-of-run summary (rendered by src/report/summary.ts).
import { FINDING_CLASSES, FINDING_KIND } from './finding-classes.js';
import type { FindingClass, ModelState } from './state.js';

export interface FindingsSummary {
  total: number;
  mismatches: number;
  notes: number;
  uncertain: number;
  /** Findings an exception labelled expected (the rest are unexpected). */
  expected: number;
  byClass: Record<FindingClass, number>;
  liveMms: number;
  endedMms: number;
  lostEvents: number;
  gaps: number;
}

export function findingsSummary(state: ModelState): FindingsSummary {
  const byClass = { ...state.findingCounts };
  const total = FINDING_CLASSES.reduce((n, c) => n + byClass[c], 0);
  const notes = FINDING_CLASSES.reduce((n, c) => n + (FINDING_KIND[c] === 'note' ? byClass[c] : 0), 0);
  return {
    total,
    mismatches: total - notes,
    notes,
    uncertain: state.findings.filter((f) => f.uncertain).length,
    expected: FINDING_CLASSES.reduce((n, c) => n + state.expectedCounts[c], 0),
    byClass,
    liveMms: state.mms.size,
    endedMms: state.endedTotal,
    lostEvents: state.counters.lostEvents,
    gaps: state.gapSeq,
  };
}
