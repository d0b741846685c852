// The text, Markdown and JSON reports as documents over one or more traces. One trace: exactly the
// single-trace report. Several: a section per trace (host and file in its head), then the totals.
import { FINDING_CLASSES } from '../model/state.js';
import { ANALYZE_SCHEMA_VERSION } from './analysis.js';
import { jsonFormat } from './json.js';
import { markdownFormat } from './markdown.js';
import { sanitize, sanitizeMarkdown as md } from './sanitize.js';
import { textFormat, type ReportFormat } from './text.js';
import type { ReportDocument, ReportTotals, TraceTotals } from './totals.js';

const summaryLine = (t: TraceTotals): string =>
  `${t.traces} trace(s)${t.unreadable > 0 ? ` (${t.unreadable} not readable)` : ''}, ${t.events} events, ${t.parseErrors} bad lines, ${t.lostEvents} lost events in ${t.gaps} gap(s)${t.truncated > 0 ? `, ${t.truncated} truncated` : ''}; findings: ${t.counts.mismatch} mismatch, ${t.counts.note} note, ${t.counts.uncertain} uncertain`;

function totalsText(t: ReportTotals): string {
  const out = ['', `totals over ${t.traces} traces from ${t.hosts.length} host(s)`, `  ${summaryLine(t)}`];
  for (const c of FINDING_CLASSES) out.push(`  ${c.padEnd(15)} ${t.counts.byClass[c]}`);
  for (const h of t.hosts) out.push(`  host ${sanitize(h.hostname)}: ${summaryLine(h)}`);
  return `${out.join('\n')}\n`;
}

export const textDocument: ReportDocument = {
  begin: () => '',
  section: () => textFormat,
  between: '\n',
  end: (t, n) => (n === 1 ? '' : totalsText(t)),
};

/** Markdown sections one heading level down, under the document's own title. */
const markdownSection: ReportFormat = {
  head: (r, n) => markdownFormat.head(r, n).replace(/^#/gm, '##'),
  mm: (m, ctx, first) => markdownFormat.mm(m, ctx, first),
  tail: (r, n) => markdownFormat.tail(r, n),
};

function totalsMarkdown(t: ReportTotals): string {
  const out = [
    '',
    '## Totals',
    '',
    summaryLine(t),
    '',
    `| class | ${t.hosts.map((h) => md(h.hostname)).join(' | ')} | all |`,
    `|---|${t.hosts.map(() => '---|').join('')}---|`,
  ];
  for (const c of FINDING_CLASSES) out.push(`| ${c} | ${t.hosts.map((h) => h.counts.byClass[c]).join(' | ')} | ${t.counts.byClass[c]} |`);
  out.push(`| events | ${t.hosts.map((h) => h.events).join(' | ')} | ${t.events} |`, `| traces | ${t.hosts.map((h) => h.traces).join(' | ')} | ${t.traces} |`);
  return `${out.join('\n')}\n`;
}

export const markdownDocument: ReportDocument = {
  begin: (n) => (n === 1 ? '' : `# exetrace analysis of ${n} traces\n\n`),
  section: (_i, n) => (n === 1 ? markdownFormat : markdownSection),
  between: '\n',
  end: (t, n) => (n === 1 ? '' : totalsMarkdown(t)),
};

const INDENT = '    ';
const indent = (s: string): string => s.replaceAll('\n', `\n${INDENT}`);

/** A single-trace JSON document as an element of the "traces" array. */
const jsonSection: ReportFormat = {
  head: (r, n) => `${INDENT}${indent(jsonFormat.head(r, n))}`,
  mm: (m, ctx, first) => indent(jsonFormat.mm(m, ctx, first)),
  tail: (r, n) => indent(jsonFormat.tail(r, n).replace(/\n$/, '')),
};

export const jsonDocument: ReportDocument = {
  begin: (n) => (n === 1 ? '' : `{\n  "schemaVersion": ${ANALYZE_SCHEMA_VERSION},\n  "traces": [\n`),
  section: (_i, n) => (n === 1 ? jsonFormat : jsonSection),
  between: ',\n',
  end: (t, n) => (n === 1 ? '' : `\n  ],\n  "totals": ${JSON.stringify(t, null, 2).replaceAll('\n', '\n  ')}\n}\n`),
};
