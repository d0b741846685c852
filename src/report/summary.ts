// The short end-of-run summary `record` prints: counts per class and the first findings, as
// text for a terminal. Sanitised here, once; callers print it as it is.
import { displayName } from '../model/files.js';
import { FINDING_CLASSES, findingsSummary, type ModelOptions, type ModelState } from '../model/index.js';
import { analyzeTrace } from './analyze-trace.js';
import { sanitize } from './sanitize.js';

/** A few lines for a terminal: counts per class and the first findings. Sanitised. */
export function renderSummary(state: ModelState, maxListed = 10): string {
  const s = findingsSummary(state);
  const lines: string[] = [];
  lines.push(
    `findings: ${s.mismatches} mismatch, ${s.notes} note${s.uncertain > 0 ? ` (${s.uncertain} uncertain: lost events)` : ''}${s.expected > 0 ? `; ${s.total - s.expected} unexpected, ${s.expected} expected (exceptions)` : ''}; mms: ${s.liveMms} live, ${s.endedMms} ended`,
  );
  const counts = FINDING_CLASSES.filter((c) => s.byClass[c] > 0).map((c) => `${c}=${s.byClass[c]}`);
  if (counts.length > 0) lines.push(`  ${counts.join('  ')}`);
  for (const f of state.findings.slice(0, maxListed)) {
    lines.push(
      `  ${f.class}${f.uncertain ? '?' : ''}${f.expected !== null ? ` (expected: ${sanitize(f.expected)})` : ''} pid ${f.pid} ${sanitize(f.comm)}: exe ${sanitize(displayName(f.exe))}, vma walk ${sanitize(displayName(f.vmaWalk))}`,
    );
  }
  if (state.findings.length > maxListed) lines.push(`  … ${state.findings.length - maxListed} more (exetrace analyze FILE)`);
  if (s.lostEvents > 0) lines.push(`  ${s.lostEvents} events lost in ${s.gaps} gap(s): findings across a gap are marked uncertain`);
  return lines.join('\n');
}

/** Analyse a finished trace file and return its summary text (already sanitised). */
export async function summarizeTrace(tracePath: string, model: Partial<ModelOptions> = {}): Promise<string> {
  // Ended mms are not summarised: let them go as they end (bounded memory on a long trace).
  // What was recorded is what it is: a bad line (there should be none) is skipped, not fatal.
  const { state } = await analyzeTrace(tracePath, { onEndedMm: () => {}, lenient: true, model });
  return renderSummary(state);
}
