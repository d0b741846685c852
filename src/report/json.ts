// JSON output of analyze: the AnalyzeReport object, one document. Kernel strings keep their
// surrogate escapes (JSON writes them as \udcXX), so no byte of a name is lost.
import type { AnalyzeReport } from './analysis.js';

export function renderJson(report: AnalyzeReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
