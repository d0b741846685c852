// JSON output of analyze: the AnalyzeReport object, one document. Kernel strings keep their
// surrogate escapes (JSON writes them as \udcXX), so no byte of a name is lost. The document is
// indented as JSON.stringify(report, null, 2) does, except each mm, which is one compact line:
// indenting every mm made the output twice its size and cost analyze a quarter of its time
// (measured on 200,000 mms), and a line per mm is what grep and `jq -c` users want anyway.
import type { EndedMm, EvidenceRef, FileAnswer } from '../model/state.js';
import type { AnalyzeReport } from './analysis.js';
import type { ReportFormat } from './text.js';

const MMS_KEY = '\n  "mms": []';

/** The document without its mms, cut where the mms array goes. */
function around(r: AnalyzeReport): [string, string] {
  const full = JSON.stringify({ ...r, mms: [] }, null, 2);
  const at = full.lastIndexOf(MMS_KEY);
  return [full.slice(0, at), full.slice(at + MMS_KEY.length)];
}

// An ended mm is written from the model's own record, field by field, exactly as
// JSON.stringify(reportEndedMm(e)) would (a test holds the two equal): the report object and
// the generic walk (a toJSON lookup per object) cost analyze a tenth of its time, and a file's
// text is the same in every mm and transition that names it.
const str = JSON.stringify as (s: string | null) => string;
const num = (n: number | null): string => (n !== null && Number.isFinite(n) ? `${n}` : 'null');
const fileText = new WeakMap<FileAnswer, string>();

function fileJson(f: FileAnswer | null): string {
  if (f === null) return 'null';
  let text = fileText.get(f);
  if (text === undefined) {
    text = `{"path":${str(f.path)},"pathTruncated":${f.pathTruncated},"name":${str(f.name)},"dev":${num(f.dev)},"ino":${num(f.ino)}}`;
    fileText.set(f, text);
  }
  return text;
}

const evidenceJson = (e: EvidenceRef): string =>
  `{"kind":${str(e.kind)},"ts":${num(e.ts)},"pid":${num(e.pid)}${e.line !== undefined ? `,"line":${num(e.line)}` : ''}}`;

function endedMmJson(e: EndedMm): string {
  let timeline = '';
  for (const t of e.timeline) {
    timeline += `${timeline === '' ? '' : ','}{"ts":${num(t.ts)},"cause":${str(t.cause)},"exe":${fileJson(t.exe)},"pid":${num(t.pid)},"tid":${num(t.tid)},"note":${str(t.note ?? null)},"evidence":${evidenceJson(t.evidence)}}`;
  }
  const r = e.request;
  return (
    `{"key":${str(e.key)},"mm":${str(e.addr)},"generation":${num(e.generation)},"live":false,"startTs":${num(e.startTs)},"endTs":${num(e.endTs)},` +
    `"comm":${str(e.comm)},"pids":[${e.pids.map(num).join(',')}],"exe":${fileJson(e.exe)},` +
    `"request":{"filename":${str(r.filename)},"argv0":${str(r.argv0)},"interp":${str(r.interp)}},"vmaWalk":null,"legacyWalk":null,"answerStatus":null,` +
    `"timeline":[${timeline}],"timelineDropped":${num(e.timelineDropped)},"findingIds":[${e.findingIds.map(str).join(',')}],"gaps":${num(e.gaps)}}`
  );
}

export const jsonFormat: ReportFormat = {
  head: (r, n) => `${around(r)[0]}\n  "mms": [${n === 0 ? '' : '\n'}`,
  mm: (m, _ctx, first) => `${first ? '' : ',\n'}    ${JSON.stringify(m)}`,
  endedMm: (e, _ctx, first) => `${first ? '' : ',\n'}    ${endedMmJson(e)}`,
  tail: (r, n) => `${n === 0 ? ']' : '\n  ]'}${around(r)[1]}\n`,
};
