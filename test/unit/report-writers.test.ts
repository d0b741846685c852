// analyze end to end on a real trace file: JSON schema fields, text and markdown writers,
// hostile strings, bad lines and truncation.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAnalyze } from '../../src/cli/analyze.js';
import { FINDING_CLASSES } from '../../src/model/state.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { DECOY, SLEEP, ev, file, maps, ordinaryLaunch, ordinaryMaps } from './fixtures/model-events.fixture.js';
import { testHeader } from './fixtures/trace-header.fixture.js';
import { sink } from '../support/sink.js';

const A = '0xffff888100000a00';
const B = '0xffff888100000b00';
const HOSTILE_COMM = 'ev\x1b[31mil\n';
const HOSTILE = file(0x801, 5001, '/tmp/\x1b]0;pwned\x07|`<b>`\udcff');

const header = testHeader();
const trailer = { magic: 'exetrace-trailer', endedAt: '2026-11-27T00:00:10.000Z', events: 0, lostEvents: 0, parseIssues: 0, reason: 'duration', error: null };

function events(): TraceEvent[] {
  const decoyRun = [
    ...ordinaryLaunch(10, 100, A),
    { ...ev.mmap(20, 100, A, 0x10000, 0x2000, DECOY), comm: 'sleep' },
    ev.snapshot(21, 100, 'exe_read', SLEEP, [maps(DECOY, 0x10000, 0x12000), ...ordinaryMaps(SLEEP)]),
  ];
  const hostile = ordinaryLaunch(30, 200, B, HOSTILE).map((e) => ({ ...e, comm: HOSTILE_COMM }));
  const deleted = ev.snapshot(40, 200, 'exe_read', HOSTILE, ordinaryMaps(HOSTILE), { exeLink: `${HOSTILE.path} (deleted)`, comm: HOSTILE_COMM, exeNlink: 0 });
  return [...decoyRun, ...hostile, deleted];
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function writeTrace(lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'exetrace-report-'));
  dirs.push(dir);
  const path = join(dir, 'run.trace');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

async function analyze(path: string, format: 'text' | 'json' | 'markdown', extra: { pid?: number; comm?: string; lenient?: boolean } = {}) {
  const out = sink();
  const err = sink();
  const code = await runAnalyze(path, { format, ...extra }, out.stream, err.stream);
  return { code, out: out.text(), err: err.text() };
}

const complete = () => writeTrace([JSON.stringify(header), ...events().map((e) => JSON.stringify(e)), JSON.stringify(trailer)]);

describe('analyze --format json', () => {
  it('has every documented field, with evidence line numbers', async () => {
    const { code, out, err } = await analyze(complete(), 'json');
    expect(code).toBe(0);
    expect(err).toBe('');
    const r = JSON.parse(out);
    expect(r.schemaVersion).toBe(1);
    expect(r.trace).toMatchObject({ truncated: false, parseErrors: 0, events: events().length, header: { kernelRelease: '6.18.0', flavor: 'tracepoint' } });
    expect(Object.keys(r.counts.byClass).sort()).toEqual([...FINDING_CLASSES].sort());
    expect(r.counts).toMatchObject({ mismatch: 1, note: 1 });
    expect(r.findings.map((f: { class: string }) => f.class)).toEqual(['decoy-mapping', 'exe-deleted']);
    for (const f of r.findings) {
      for (const k of ['class', 'kind', 'pid', 'comm', 'mm', 'exe', 'vmaWalk', 'legacyWalk', 'uncertain', 'explanation', 'evidence'])
        expect(f).toHaveProperty(k);
    }
    const decoy = r.findings[0];
    expect(decoy.vmaWalk).toMatchObject({ path: '/tmp/decoy.bin', address: 0x10000 });
    // header is line 1, exec line 3, exec snapshot line 5 (it placed the loader), decoy mmap line 6.
    expect(decoy.evidence.map((e: { kind: string; line: number }) => [e.kind, e.line])).toEqual([
      ['exec', 3],
      ['mmap', 6],
      ['proc_snapshot', 5],
    ]);
    expect(r.mms.map((m: { key: string; live: boolean }) => [m.key, m.live])).toEqual([
      [`${A}#1`, true],
      [`${B}#1`, true],
    ]);
    expect(r.mms[0].timeline[0]).toMatchObject({ cause: 'exec', pid: 100 });
    // JSON keeps the raw kernel string (surrogate escapes included): nothing lost.
    expect(r.findings[1].comm).toBe(HOSTILE_COMM);
  });

  it('-p and -c filter findings and mms', async () => {
    const byPid = JSON.parse((await analyze(complete(), 'json', { pid: 200 })).out);
    expect(byPid.findings.map((f: { pid: number }) => f.pid)).toEqual([200]);
    expect(byPid.mms).toHaveLength(1);
    expect(byPid.counts.byClass['decoy-mapping']).toBe(0);
    const byComm = JSON.parse((await analyze(complete(), 'json', { comm: 'sleep' })).out);
    expect(byComm.findings.map((f: { class: string }) => f.class)).toEqual(['decoy-mapping']);
  });

  it('--lenient: bad lines go to stderr as file:line: cause and are counted; a truncated trace is analysed and flagged', async () => {
    const lines = [
      JSON.stringify(header),
      ...events()
        .slice(0, 4)
        .map((e) => JSON.stringify(e)),
      '{"kind":"exec"',
      JSON.stringify({ kind: 'nope', ts: 1 }),
      ...events()
        .slice(4)
        .map((e) => JSON.stringify(e)),
    ];
    const path = writeTrace(lines);
    const { code, out, err } = await analyze(path, 'json', { lenient: true });
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.trace.truncated).toBe(true);
    expect(r.trace.parseErrors).toBe(2);
    expect(r.findings.map((f: { class: string }) => f.class)).toEqual(['decoy-mapping', 'exe-deleted']);
    expect(err).toContain(`${path}:6: invalid JSON`);
    expect(err).toContain(`${path}:7: unknown event kind`);

    // Without --lenient the first bad line is an error: named, no report, exit 2.
    const strict = await analyze(path, 'json');
    expect(strict.code).toBe(2);
    expect(strict.out).toBe('');
    const errLines = strict.err.trimEnd().split('\n');
    expect(errLines).toHaveLength(2);
    expect(errLines[0]!.startsWith(`${path}:6: invalid JSON: `)).toBe(true);
    expect(errLines[1]).toBe(`exetrace analyze: stopped at the bad line ${path}:6; --lenient skips bad lines and counts them`);
  });

  it('without --lenient a trace that only ends early still analyses (truncation is no bad line)', async () => {
    const lines = [JSON.stringify(header), ...events().map((e) => JSON.stringify(e))];
    const path = writeTrace(lines);
    writeFileSync(path, `${readFileSync(path, 'utf8').trimEnd()}\n{"kind":"ex`);
    const { code, out, err } = await analyze(path, 'json');
    expect(code).toBe(0);
    expect(JSON.parse(out).trace).toMatchObject({ truncated: true, parseErrors: 0 });
    expect(err).toMatch(/partial last line \(no newline\): the trace was cut short\n.*truncated: no trailer after line/);
  });

  it('a file that is not a trace exits 2', async () => {
    const { code, err } = await analyze(writeTrace(['hello']), 'json');
    expect(code).toBe(2);
    expect(err).toContain('not a readable exetrace trace');
  });
});

describe('text and markdown writers', () => {
  it('text: findings, counts and lifecycles, with hostile strings neutralised', async () => {
    const { out } = await analyze(complete(), 'text');
    expect(out).toContain('decoy-mapping');
    expect(out).toContain('vma walk:    /tmp/decoy.bin [dev 08:01 ino 3001] at 0x10000 r-xp');
    expect(out).toContain('ev\\x1b[31mil\\x0a');
    expect(out).toContain('/tmp/\\x1b]0;pwned\\x07|`<b>`\\xff');
    expect(out).toMatch(/exec\s+\/usr\/bin\/sleep/);
    expect(/[\x00-\x08\x0b-\x1f\x7f-\x9f]|\p{Cs}/u.test(out)).toBe(false);
  });

  it('markdown: tables cannot be broken by names', async () => {
    const { out } = await analyze(complete(), 'markdown');
    expect(out).toContain('## Findings');
    expect(out).toContain('### decoy-mapping — pid 100 sleep');
    expect(out).toContain('\\|\\`&lt;b&gt;\\`');
    expect(/[\x00-\x08\x0b-\x1f\x7f-\x9f]|\p{Cs}/u.test(out)).toBe(false);
    for (const row of out.split('\n').filter((l) => l.startsWith('| ') && l.includes('pwned'))) {
      expect(row.split(/(?<!\\)\|/).length).toBe(
        row.startsWith('| /proc') || row.startsWith('| asked') || row.startsWith('| VMA') || row.startsWith('| legacy') ? 4 : 8,
      );
    }
  });
});
