// Markdown output of analyze (for tickets and reviews). Every kernel string is sanitised and
// Markdown-escaped, so a hostile name cannot break the table or inject markup.
import { FINDING_CLASSES } from '../model/state.js';
import type { AnalyzeReport } from './analysis.js';
import { fileLine, requestLine, timeString } from './format.js';
import { sanitizeMarkdown as md } from './sanitize.js';
import type { ReportFormat } from './text.js';

export const markdownFormat: ReportFormat = {
  head,
  mm(m) {
    const tl = m.timeline.map((x) => `${x.cause}${x.note ? ` (${md(x.note)})` : ''}`).join(' → ');
    return `| ${md(m.key)} | ${m.live ? 'live' : 'ended'} | ${m.pids.join(', ')} | ${md(m.comm)} | ${md(fileLine(m.exe))} | ${tl} |\n`;
  },
  tail: () => '',
};

function head(r: AnalyzeReport): string {
  const out: string[] = [];
  const t = r.trace;
  out.push(`# exetrace analysis of \`${md(t.file).replace(/`/g, '')}\``, '');
  if (t.header)
    out.push(`Recorded ${md(t.header.startedAt)} on ${md(t.header.hostname)}, kernel ${md(t.header.kernelRelease)}, flavor ${t.header.flavor}.`, '');
  out.push(
    `${t.events} events, ${t.parseErrors} bad lines, ${t.lostEvents} lost events in ${t.gaps} gap(s).${t.truncated ? ' **The trace is truncated** (no trailer line); it was analysed up to the cut.' : ''}`,
    '',
  );
  out.push('## Counts', '', '| class | findings | expected |', '|---|---|---|');
  for (const c of FINDING_CLASSES) out.push(`| ${c} | ${r.counts.byClass[c]} | ${r.counts.expectedByClass[c]} |`);
  out.push(
    '',
    `${r.counts.mismatch} mismatch, ${r.counts.note} note, ${r.counts.uncertain} uncertain; ${r.counts.unexpected} unexpected, ${r.counts.expected} expected (exceptions).`,
    '',
  );
  out.push('## Findings', '');
  if (r.findings.length === 0) out.push('None.', '');
  for (const f of r.findings) {
    out.push(
      `### ${f.class} — pid ${f.pid} ${md(f.comm)}${f.uncertain ? ' (uncertain: lost events)' : ''}${f.expected !== null ? ` (expected: ${md(f.expected)})` : ''}`,
      '',
    );
    out.push('| | file |', '|---|---|');
    out.push(`| asked for | ${md(requestLine(f.request, f.comm))} |`);
    out.push(`| /proc/PID/exe | ${md(fileLine(f.exe))} |`);
    out.push(`| VMA walk | ${md(fileLine(f.vmaWalk, '(none known)'))} |`);
    out.push(`| legacy walk | ${md(fileLine(f.legacyWalk, '(none)'))} |`);
    for (const rel of f.related) out.push(`| ${rel.role} | ${md(fileLine(rel.file))} |`);
    out.push('', md(f.explanation), '');
    out.push(
      `Kind: ${f.kind}. mm ${f.mm ?? '?'} (${md(f.mmKey)}), at ${timeString(f.ts, t)}. Evidence: ${f.evidence.map((e) => `${e.kind}@${e.ts}${e.line !== undefined ? ` line ${e.line}` : ''}`).join(', ')}.`,
      '',
    );
  }
  out.push('## mms', '', '| mm | state | pids | comm | exe | timeline |', '|---|---|---|---|---|---|');
  return `${out.join('\n')}\n`;
}
