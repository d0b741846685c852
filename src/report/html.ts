// `analyze --format html`: one self-contained page (inline CSS and SVG; a Content-Security-Policy
// that forbids every load, so the page cannot reach the network), with the summary, the findings
// with their evidence, an SVG timeline of the mms that have findings (each exe_file epoch a bar,
// each finding a marker), and every mm in a table. Every kernel string is sanitised for display
// and HTML-escaped, in text and in attributes alike.
import { FINDING_CLASSES, FINDING_KIND } from '../model/finding-classes.js';
import type { TransitionCause } from '../model/state.js';
import type { AnalyzeReport, ReportFinding, ReportMm } from './analysis.js';
import { fileLine, hexAddr, timeString } from './format.js';
import { sanitize } from './sanitize.js';
import type { ReportFormat } from './text.js';
import type { ReportDocument, ReportTotals, TraceTotals } from './totals.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Sanitised and escaped: safe as element text and as a quoted attribute value. */
export function escapeHtml(s: string): string {
  return sanitize(s).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const h = escapeHtml;

/** Rows drawn in one trace's timeline; more mms with findings are listed in the table only. */
const MAX_TIMELINE_ROWS = 300;
const SVG_WIDTH = 1100;
const LABEL_WIDTH = 300;
const ROW_HEIGHT = 24;
const AXIS_HEIGHT = 30;
const BAR_HEIGHT = 14;

const CAUSE_COLORS: Record<TransitionCause, string> = {
  exec: '#3b6fd4',
  'fork-inherit': '#8c96a8',
  'prctl-replace': '#e07b1f',
  teardown: '#000000',
  startup: '#3a9a5b',
  'first-seen': '#b7a9d6',
};
const KIND_COLORS = { mismatch: '#d7263d', note: '#f2b134' } as const;

const CSS = `
:root { font-family: system-ui, sans-serif; color: #1d232b; background: #ffffff; }
body { margin: 0; }
.doc { display: flex; flex-direction: column; gap: 1.5rem; padding: 1rem 1.5rem; max-width: 1200px; }
.doc > h1 { order: -2; margin: 0; font-size: 1.5rem; }
.totals { order: -1; }
.trace { display: flex; flex-direction: column; gap: 1rem; border-top: 3px solid #3b6fd4; padding-top: .5rem; }
.trace > .summary { order: 1; } .trace > .findings { order: 2; } .trace > .timeline { order: 3; } .trace > .mms { order: 4; }
h2 { font-size: 1.25rem; margin: .25rem 0; } h3 { font-size: 1.05rem; margin: .5rem 0; } h4 { font-size: 1rem; margin: 0 0 .4rem; }
code, .mono, td.file { font-family: ui-monospace, monospace; font-size: .85rem; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .25rem 0; }
dl.facts dt { color: #5a6472; }
table { border-collapse: collapse; } td, th { border: 1px solid #d5dae1; padding: .2rem .45rem; text-align: left; vertical-align: top; }
th { background: #f1f3f6; }
.warn { color: #9a3412; font-weight: 600; }
.finding { border-left: 5px solid ${KIND_COLORS.mismatch}; background: #fbfbfc; padding: .5rem .75rem; margin: .5rem 0; }
.finding.note { border-left-color: ${KIND_COLORS.note}; }
.finding .why { margin: .4rem 0; }
.finding .meta, .evidence { color: #4a5463; font-size: .85rem; }
.timeline svg { width: 100%; height: auto; background: #ffffff; border: 1px solid #d5dae1; }
.timeline .lane { fill: #eef1f5; } .timeline .axis { stroke: #c4cad3; } .timeline text { font-size: 11px; fill: #1d232b; }
.legend span { display: inline-block; margin-right: 1rem; font-size: .85rem; }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; }
.mms table { font-size: .85rem; }
`;

interface Epoch {
  from: number;
  to: number;
  cause: TransitionCause;
  exe: string;
}

/** What the timeline keeps of an mm with findings (its full record is not kept). */
interface TimelineRow {
  key: string;
  label: string;
  startTs: number;
  endTs: number | null;
  epochs: { ts: number; cause: TransitionCause; exe: string }[];
}

function summaryHtml(r: AnalyzeReport, index: number): string {
  const t = r.trace;
  const hd = t.header;
  const facts: [string, string][] = [];
  if (hd) {
    facts.push(
      ['host', h(hd.hostname)],
      ['kernel', h(hd.kernelRelease)],
      ['flavor', h(hd.flavor)],
      ['bpftrace', h(hd.bpftraceVersion)],
      ['recorded', h(hd.startedAt)],
    );
  }
  facts.push(['events', String(t.events)], ['bad lines', String(t.parseErrors)], ['lost events', `${t.lostEvents} in ${t.gaps} gap(s)`]);
  if (r.filters.pid !== null || r.filters.comm !== null)
    facts.push(['filtered', `${r.filters.pid !== null ? `pid ${r.filters.pid} ` : ''}${r.filters.comm !== null ? `comm ${h(r.filters.comm)}` : ''}`]);
  const counts = FINDING_CLASSES.map((c) => `<tr><td>${c}</td><td>${FINDING_KIND[c]}</td><td>${r.counts.byClass[c]}</td></tr>`).join('');
  return [
    `<section class="trace" id="trace-${index}">`,
    `<div class="summary"><h2>Trace <code>${h(t.file)}</code>${hd ? ` on ${h(hd.hostname)}` : ''}</h2>`,
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`,
    t.truncated ? '<p class="warn">The trace is truncated (no trailer line): it was analysed up to the cut.</p>' : '',
    `<p>Findings: <b>${r.counts.mismatch}</b> mismatch, <b>${r.counts.note}</b> note, <b>${r.counts.uncertain}</b> uncertain.${r.dropped.findings > 0 ? ` (${r.dropped.findings} older findings not kept.)` : ''}</p>`,
    `<table class="counts"><thead><tr><th>class</th><th>kind</th><th>findings</th></tr></thead><tbody>${counts}</tbody></table></div>`,
  ].join('\n');
}

function findingHtml(f: ReportFinding, r: AnalyzeReport, id: string): string {
  const rows: [string, string][] = [
    ['/proc/PID/exe', fileLine(f.exe)],
    ['VMA walk', fileLine(f.vmaWalk, '(none known)')],
    ['legacy walk', fileLine(f.legacyWalk, '(none)')],
    ...f.related.map((rel): [string, string] => [rel.role, `${fileLine(rel.file)}${rel.address !== undefined ? ` at ${hexAddr(rel.address)}` : ''}`]),
  ];
  const evidence = f.evidence.map(
    (e) =>
      `<li>${e.kind} at ${h(timeString(e.ts, r.trace))}${e.pid !== null ? `, pid ${e.pid}` : ''}${e.line !== undefined ? `, trace line ${e.line}` : ''}</li>`,
  );
  return [
    `<article class="finding ${f.kind}" id="${id}">`,
    `<h4>${f.class} — pid ${f.pid} <code>${h(f.comm)}</code>${f.uncertain ? ' <span class="warn">(uncertain: lost events)</span>' : ''}</h4>`,
    `<table class="answers"><tbody>${rows.map(([k, v]) => `<tr><th>${h(k)}</th><td class="file">${h(v)}</td></tr>`).join('')}</tbody></table>`,
    `<p class="why">${h(f.explanation)}</p>`,
    `<p class="meta">${f.kind}, mm <code>${h(f.mmKey)}</code>, at ${h(timeString(f.ts, r.trace))}</p>`,
    `<ul class="evidence">${evidence.join('')}</ul>`,
    '</article>',
  ].join('\n');
}

/** Tick spacing (ns) of 1, 2 or 5 × 10^k giving about eight ticks over span. */
function tickStep(span: number): number {
  const raw = span / 8;
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

function secondsLabel(ns: number): string {
  if (ns === 0) return '0s';
  const s = ns / 1e9;
  return `+${s < 10 ? s.toFixed(s < 0.01 ? 4 : 2) : s.toFixed(1)}s`;
}

function timelineSvg(rows: TimelineRow[], findings: ReportFinding[], r: AnalyzeReport, lastTs: number, idOf: Map<string, string>): string {
  const t0 = Math.min(...rows.map((m) => m.startTs));
  const t1 = Math.max(lastTs, ...rows.map((m) => m.endTs ?? m.startTs));
  const span = Math.max(1, t1 - t0);
  const plot = SVG_WIDTH - LABEL_WIDTH - 16;
  const x = (ts: number): number => LABEL_WIDTH + ((ts - t0) / span) * plot;
  const height = AXIS_HEIGHT + rows.length * ROW_HEIGHT + 8;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${SVG_WIDTH} ${height}" width="${SVG_WIDTH}" height="${height}" role="img">`];
  const step = tickStep(span);
  for (let k = 0; k * step <= span; k++) {
    const tx = x(t0 + k * step).toFixed(1);
    out.push(
      `<line class="axis" x1="${tx}" x2="${tx}" y1="${AXIS_HEIGHT - 6}" y2="${height - 4}"/><text x="${tx}" y="${AXIS_HEIGHT - 10}" text-anchor="middle">${secondsLabel(k * step)}</text>`,
    );
  }
  const byMm = new Map<string, ReportFinding[]>();
  for (const f of findings) byMm.set(f.mmKey, [...(byMm.get(f.mmKey) ?? []), f]);
  rows.forEach((m, i) => {
    const y = AXIS_HEIGHT + i * ROW_HEIGHT;
    const barY = y + (ROW_HEIGHT - BAR_HEIGHT) / 2;
    const end = m.endTs ?? t1;
    const laneX = x(m.startTs);
    const laneW = Math.max(2, x(end) - laneX);
    out.push(`<g class="mm-row" data-mm="${h(m.key)}">`);
    out.push(`<text x="4" y="${y + ROW_HEIGHT / 2 + 4}">${h(m.label)}</text>`);
    out.push(
      `<rect class="lane" x="${laneX.toFixed(1)}" y="${barY}" width="${laneW.toFixed(1)}" height="${BAR_HEIGHT}"><title>${h(m.key)}${m.endTs === null ? ' (live at the end)' : ''}</title></rect>`,
    );
    const epochs: Epoch[] = m.epochs.map((e, j) => ({ from: e.ts, to: m.epochs[j + 1]?.ts ?? end, cause: e.cause, exe: e.exe }));
    for (const e of epochs) {
      const ex = x(e.from);
      const ew = Math.max(2, x(e.to) - ex);
      out.push(
        `<rect class="epoch" data-cause="${e.cause}" x="${ex.toFixed(1)}" y="${barY}" width="${ew.toFixed(1)}" height="${BAR_HEIGHT}" fill="${CAUSE_COLORS[e.cause]}"><title>${e.cause}: ${h(e.exe)}</title></rect>`,
      );
    }
    for (const f of byMm.get(m.key) ?? []) {
      const fx = x(f.ts).toFixed(1);
      const fill = f.uncertain ? '#ffffff' : KIND_COLORS[f.kind];
      out.push(
        `<a href="#${idOf.get(f.id)}"><circle class="finding-marker" data-finding="${h(f.id)}" cx="${fx}" cy="${barY + BAR_HEIGHT / 2}" r="6" fill="${fill}" stroke="${KIND_COLORS[f.kind]}" stroke-width="2.5"><title>${f.class}: ${h(f.explanation)}</title></circle></a>`,
      );
    }
    out.push('</g>');
  });
  out.push('</svg>');
  const legend = [
    ...(['exec', 'fork-inherit', 'prctl-replace', 'startup', 'first-seen'] as const).map(
      (c) => `<span><i style="background:${CAUSE_COLORS[c]}"></i>${c}</span>`,
    ),
    `<span><i style="background:${KIND_COLORS.mismatch};border-radius:50%"></i>mismatch</span>`,
    `<span><i style="background:${KIND_COLORS.note};border-radius:50%"></i>note</span>`,
  ];
  return `<p>From ${h(timeString(t0, r.trace))}; each bar is an mm's life, coloured by how exe_file was set; each dot a finding (hollow: uncertain).</p>\n${out.join('\n')}\n<p class="legend">${legend.join('')}</p>`;
}

/** One trace's section: summary and findings first, then the mm table; the timeline is drawn at the end, when every mm has been seen. */
class HtmlSection implements ReportFormat {
  private readonly rows: TimelineRow[] = [];
  private notDrawn = 0;
  private lastTs = 0;

  constructor(private readonly index: number) {}

  private idOf(r: AnalyzeReport): Map<string, string> {
    return new Map(r.findings.map((f, i) => [f.id, `t${this.index}-f${i}`]));
  }

  head(r: AnalyzeReport, mmCount: number): string {
    const ids = this.idOf(r);
    const findings = r.findings.length === 0 ? '<p>None.</p>' : r.findings.map((f) => findingHtml(f, r, ids.get(f.id)!)).join('\n');
    return [
      summaryHtml(r, this.index),
      `<section class="findings"><h3>Findings (${r.findings.length})</h3>`,
      findings,
      '</section>',
      `<section class="mms"><h3>mms (${mmCount})${r.dropped.mms > 0 ? ` — ${r.dropped.mms} ended mms not kept` : ''}</h3>`,
      '<table><thead><tr><th>mm</th><th>state</th><th>pids</th><th>comm</th><th>exe</th><th>timeline</th></tr></thead><tbody>',
      '',
    ].join('\n');
  }

  mm(m: ReportMm, ctx: Parameters<ReportFormat['mm']>[1]): string {
    this.lastTs = Math.max(this.lastTs, m.endTs ?? m.startTs, ...m.timeline.map((t) => t.ts));
    if (m.findingIds.length > 0) {
      if (this.rows.length < MAX_TIMELINE_ROWS) {
        const first = m.timeline[0]?.exe ?? m.exe;
        const exe = first === null ? '?' : (first.path ?? first.name);
        this.rows.push({
          key: m.key,
          label: `${m.comm} [${m.pids[0] ?? '?'}] ${exe.slice(exe.lastIndexOf('/') + 1)}`.slice(0, 44),
          startTs: m.startTs,
          endTs: m.endTs,
          epochs: m.timeline
            .filter((t) => t.cause !== 'teardown')
            .map((t) => ({ ts: t.ts, cause: t.cause, exe: t.exe === null ? '(unknown)' : (t.exe.path ?? t.exe.name) })),
        });
      } else this.notDrawn++;
    }
    const tl = m.timeline.map((t) => `${t.cause} ${h(timeString(t.ts, ctx.trace))}${t.note ? ` (${h(t.note)})` : ''}`).join('<br>');
    return `<tr><td class="mono">${h(m.key)}</td><td>${m.live ? 'live' : 'ended'}</td><td>${m.pids.join(', ')}</td><td>${h(m.comm)}</td><td class="file">${h(fileLine(m.exe))}</td><td>${tl}</td></tr>\n`;
  }

  tail(r: AnalyzeReport): string {
    const rows = [...this.rows].sort((a, b) => a.startTs - b.startTs);
    const drawn = new Set(rows.map((m) => m.key));
    const findings = r.findings.filter((f) => drawn.has(f.mmKey));
    const body =
      rows.length === 0
        ? '<p>No mm has a finding: nothing to draw.</p>'
        : `${timelineSvg(
            rows,
            findings,
            r,
            r.findings.reduce((a, f) => Math.max(a, f.ts), this.lastTs),
            this.idOf(r),
          )}${this.notDrawn > 0 ? `\n<p>${this.notDrawn} more mms with findings are in the table only.</p>` : ''}`;
    return [
      '</tbody></table></section>',
      `<section class="timeline"><h3>Timeline of the mms with findings (${rows.length})</h3>`,
      body,
      '</section>',
      '</section>',
      '',
    ].join('\n');
  }
}

const totalsRow = (name: string, t: TraceTotals): string =>
  `<tr><td>${name}</td><td>${t.traces}${t.unreadable > 0 ? ` (${t.unreadable} unreadable)` : ''}</td><td>${t.events}</td><td>${t.lostEvents}</td><td>${t.truncated}</td>${FINDING_CLASSES.map((c) => `<td>${t.counts.byClass[c]}</td>`).join('')}</tr>`;

function totalsHtml(t: ReportTotals): string {
  return [
    `<section class="totals"><h2>Totals over ${t.traces} traces from ${t.hosts.length} host(s)</h2>`,
    `<p>Findings: <b>${t.counts.mismatch}</b> mismatch, <b>${t.counts.note}</b> note, <b>${t.counts.uncertain}</b> uncertain.</p>`,
    `<table><thead><tr><th>host</th><th>traces</th><th>events</th><th>lost</th><th>truncated</th>${FINDING_CLASSES.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>`,
    ...t.hosts.map((host) => totalsRow(h(host.hostname), host)),
    totalsRow('<b>all</b>', t),
    '</tbody></table></section>',
  ].join('\n');
}

export const htmlDocument: ReportDocument = {
  begin: (n) =>
    [
      '<!doctype html>',
      '<html lang="en"><head><meta charset="utf-8">',
      // Nothing may load: no scripts, images, fonts or requests of any kind; only the inline style.
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
      `<title>exetrace analysis${n > 1 ? ` of ${n} traces` : ''}</title>`,
      `<style>${CSS}</style>`,
      '</head><body><main class="doc">',
      `<h1>exetrace analysis${n > 1 ? ` of ${n} traces` : ''}</h1>`,
      '',
    ].join('\n'),
  section: (i) => new HtmlSection(i),
  between: '',
  end: (t, n) => `${n > 1 ? totalsHtml(t) : ''}\n</main></body></html>\n`,
};
