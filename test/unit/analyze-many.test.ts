// analyze with several trace files: one report, a section per trace (each through its own
// reducer), then totals per host and overall, in text, Markdown and JSON. One file: unchanged.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAnalyze } from '../../src/cli/analyze.js';
import { FINDING_CLASSES } from '../../src/model/state.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { DECOY, SLEEP, ev, maps, ordinaryLaunch, ordinaryMaps } from './fixtures/model-events.fixture.js';
import { testHeader, traceText } from './fixtures/trace-header.fixture.js';
import { sink } from '../support/sink.js';

const SAMPLE = join(REPO_ROOT, 'samples', 'lab.trace.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'views-many-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MM = '0xffff888100000a00';

function trace(name: string, hostname: string, events: TraceEvent[]): string {
  const path = join(dir, name);
  writeFileSync(path, traceText(events, { ...testHeader(), hostname }));
  return path;
}

/** A decoy-mapping finding; the mm stays live at the end. */
const decoy = (): TraceEvent[] => [
  ...ordinaryLaunch(10, 100, MM),
  { ...ev.mmap(20, 100, MM, 0x10000, 0x2000, DECOY), comm: 'sleep' },
  ev.snapshot(21, 100, 'exe_read', SLEEP, [maps(DECOY, 0x10000, 0x12000), ...ordinaryMaps(SLEEP)]),
];
/** Events on the same mm address and pid, with no exec: alone, the mm is first seen here. */
const continuation = (): TraceEvent[] => [ev.mmap(30, 100, MM, 0x20000, 0x1000, DECOY), ev.gap(31, 4)];

async function analyze(files: string[], format: 'text' | 'json' | 'markdown') {
  const out = sink();
  const err = sink();
  const code = await runAnalyze(files, { format }, out.stream, err.stream);
  return { code, out: out.text(), err: err.text() };
}

interface Report {
  trace: { file: string; events: number; header: { hostname: string } | null; lostEvents: number };
  counts: { total: number; byClass: Record<string, number> };
  mms: { key: string; timeline: { cause: string }[] }[];
}

describe('analyze A B …', () => {
  const a = trace('a.trace', 'alpha', decoy());
  const b = trace('b.trace', 'beta', continuation());
  const c = trace('c.trace', 'alpha', decoy());

  it('JSON: one document whose traces are exactly the single-file reports, plus totals per host', async () => {
    const many = await analyze([a, b, c, SAMPLE], 'json');
    expect(many.code).toBe(0);
    expect(many.err).toBe('');
    const doc = JSON.parse(many.out) as {
      schemaVersion: number;
      traces: Report[];
      totals: { counts: unknown; hosts: { hostname: string; traces: number; files: string[]; events: number }[] };
    };
    expect(doc.schemaVersion).toBe(1);
    const singles: Report[] = [];
    for (const f of [a, b, c, SAMPLE]) singles.push(JSON.parse((await analyze([f], 'json')).out) as Report);
    expect(doc.traces).toEqual(singles);
    const sum = (k: (r: Report) => number): number => singles.reduce((n, r) => n + k(r), 0);
    expect(doc.totals).toMatchObject({ traces: 4, unreadable: 0, events: sum((r) => r.trace.events), lostEvents: 4 });
    const byClass = Object.fromEntries(FINDING_CLASSES.map((k) => [k, sum((r) => r.counts.byClass[k]!)]));
    expect(doc.totals.counts).toMatchObject({ byClass, total: sum((r) => r.counts.total) });
    expect(doc.totals.hosts.map((h) => [h.hostname, h.traces, h.files])).toEqual([
      ['alpha', 2, [a, c]],
      ['beta', 1, [b]],
      ['vm', 1, [SAMPLE]],
    ]);
    expect(doc.totals.hosts[0]!.events).toBe(singles[0]!.trace.events * 2);
  });

  it('each file has its own reducer: a trace does not continue the mms of the one before', async () => {
    const doc = JSON.parse((await analyze([a, b], 'json')).out) as { traces: Report[] };
    expect(doc.traces[0]!.mms[0]!.timeline[0]!.cause).toBe('exec');
    // Alone, b's mm is first seen in b; folded into a's reducer it would continue a's exec'd mm.
    expect(doc.traces[1]!.mms.map((m) => m.timeline[0]!.cause)).toEqual(['first-seen']);
    expect(doc.traces[1]!.counts.total).toBe(0);
  });

  it('text: a section per trace naming host and file, then totals per host', async () => {
    const { code, out } = await analyze([a, b, c], 'text');
    expect(code).toBe(0);
    const single = (await analyze([a], 'text')).out;
    expect(out.startsWith(single)).toBe(true);
    expect(out.match(/^trace /gm)).toHaveLength(3);
    expect(out).toMatch(/on alpha, kernel/);
    expect(out).toMatch(/on beta, kernel/);
    const totals = out.slice(out.indexOf('totals over 3 traces from 2 host(s)'));
    expect(totals).toContain(`3 trace(s), ${decoy().length * 2 + continuation().length} events`);
    expect(totals).toMatch(/^ {2}decoy-mapping +2$/m);
    expect(totals).toContain(`\n  host alpha: 2 trace(s), ${decoy().length * 2} events`);
    expect(totals).toMatch(/^ {2}host beta: 1 trace\(s\), 2 events, 0 bad lines, 4 lost events in 1 gap\(s\)/m);
  });

  it('markdown: one title, each trace one level down, a totals table by host', async () => {
    const { out } = await analyze([a, b], 'markdown');
    expect(out.startsWith('# exetrace analysis of 2 traces\n')).toBe(true);
    expect(out.match(/^## exetrace analysis of /gm)).toHaveLength(2);
    expect(out.match(/^### Counts/gm)).toHaveLength(2);
    expect(out).toContain('| class | alpha | beta | all |');
    expect(out).toContain('| decoy-mapping | 1 | 0 | 1 |');
  });

  it('a file that is not a trace: the others are reported, totals count it, exit 2', async () => {
    const bad = join(dir, 'bad.trace');
    writeFileSync(bad, 'not a trace\n');
    const { code, out, err } = await analyze([a, bad, c], 'json');
    expect(code).toBe(2);
    expect(err).toContain(`exetrace analyze: ${bad} is not a readable exetrace trace`);
    const doc = JSON.parse(out) as { traces: Report[]; totals: { traces: number; unreadable: number; hosts: { hostname: string; files: string[] }[] } };
    expect(doc.traces.map((t) => t.trace.file)).toEqual([a, c]);
    expect(doc.totals).toMatchObject({ traces: 3, unreadable: 1 });
    expect(doc.totals.hosts.map((h) => [h.hostname, h.files])).toEqual([['alpha', [a, c]]]);
  });

  it('one file: the report is the single-trace report, with no totals', async () => {
    const { out } = await analyze([a], 'text');
    expect(out).not.toContain('totals over');
    expect(JSON.parse((await analyze([a], 'json')).out)).toHaveProperty('trace');
  });

  it('the CLI takes several files, and prints no progress bar off a terminal', async () => {
    const r = await runCli(['analyze', a, b, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect((JSON.parse(r.stdout) as { traces: unknown[] }).traces).toHaveLength(2);
  });
});
