// JSON output of analyze: the AnalyzeReport object, one document. Kernel strings keep their
// surrogate escapes (JSON writes them as \udcXX), so no byte of a name is lost. The parts
// below produce exactly JSON.stringify(report, null, 2), with the mms written one at a time.
import type { AnalyzeReport } from './analysis.js';
import type { ReportFormat } from './text.js';

const MMS_KEY = '\n  "mms": []';

/** The document without its mms, cut where the mms array goes. */
function around(r: AnalyzeReport): [string, string] {
  const full = JSON.stringify({ ...r, mms: [] }, null, 2);
  const at = full.lastIndexOf(MMS_KEY);
  return [full.slice(0, at), full.slice(at + MMS_KEY.length)];
}

export const jsonFormat: ReportFormat = {
  head: (r, n) => `${around(r)[0]}\n  "mms": [${n === 0 ? '' : '\n'}`,
  mm: (m, _ctx, first) => `${first ? '' : ',\n'}    ${JSON.stringify(m, null, 2).replaceAll('\n', '\n    ')}`,
  tail: (r, n) => `${n === 0 ? ']' : '\n  ]'}${around(r)[1]}\n`,
};
