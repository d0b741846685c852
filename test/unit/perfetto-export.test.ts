// export --perfetto: the Chrome trace-event JSON checked against what the format requires
// (phases, a pid and tid on every event, B/E perfectly nested per track, ts monotonic per track),
// and against the analysis of the same trace (every finding, exe read and mm is there).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runAnalyze } from '../../src/cli/analyze.js';
import { runExport } from '../../src/cli/export.js';
import type { ChromeTraceEvent } from '../../src/report/perfetto.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { formatViolations } from '../support/chrome-trace.js';
import { cliCommand, REPO_ROOT, runCli } from '../support/cli.js';
import { SH, SLEEP, ev, file, ordinaryLaunch, ordinaryMaps } from './fixtures/model-events.fixture.js';
import { traceText } from './fixtures/trace-header.fixture.js';
import { sink } from '../support/sink.js';

const SAMPLE = join(REPO_ROOT, 'samples', 'lab.trace.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'views-perfetto-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: string;
  otherData: Record<string, unknown>;
}

async function exportTo(trace: string, name: string): Promise<{ code: number; doc: ChromeTrace | null; err: string; path: string }> {
  const path = join(dir, name);
  const err = sink();
  const code = await runExport(trace, { perfetto: path }, err.stream);
  const doc = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as ChromeTrace) : null;
  return { code, doc, err: err.text(), path };
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function stringsOf(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) stringsOf(x, out);
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) stringsOf(x, out);
  return out;
}

describe('export --perfetto on the bundled lab recording', async () => {
  const { code, doc, err } = await exportTo(SAMPLE, 'lab.json');
  const analysis = sink();
  await runAnalyze(SAMPLE, { format: 'json' }, analysis.stream, sink().stream);
  const report = JSON.parse(analysis.text()) as {
    counts: { total: number };
    findings: { id: string; class: string; explanation: string; related: { role: string; file: { path: string } }[] }[];
    mms: { key: string }[];
  };
  const lines = readFileSync(SAMPLE, 'utf8').split('\n');
  const events = doc!.traceEvents;

  it('is a valid trace-event document: phases, pids, tids, nesting, ts order', () => {
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(Array.isArray(events)).toBe(true);
    expect(formatViolations(events)).toEqual([]);
    // No mm track's tid is some process's pid: a viewer would take it for that process's main thread.
    const pids = new Set(events.map((e) => e.pid));
    expect(events.filter((e) => e.tid !== e.pid && pids.has(e.tid))).toEqual([]);
    // The recorder's own count of what it wrote, in the trailer.
    const trailer = JSON.parse(lines.filter((l) => l !== '').at(-1)!) as { magic: string; events: number };
    expect(trailer.magic).toBe('exetrace-trailer');
    expect(doc!.otherData).toMatchObject({ hostname: 'vm', events: trailer.events, truncated: false });
  });

  it('has one mm span per mm of the analysis, each exe_file epoch nested inside it', () => {
    const mmSpans = events.filter((e) => e.ph === 'B' && e.cat === 'mm').map((e) => (e.args as { mm: string }).mm);
    expect(new Set(mmSpans).size).toBe(mmSpans.length);
    expect(mmSpans.sort()).toEqual(report.mms.map((m) => m.key).sort());
    // An epoch always opens inside its mm's span on the same track.
    const depth = new Map<string, string[]>();
    let epochs = 0;
    for (const e of events) {
      const k = `${e.pid}/${e.tid}`;
      const s = depth.get(k) ?? [];
      depth.set(k, s);
      if (e.ph === 'B') {
        if (e.cat === 'exe_file') {
          epochs++;
          expect(s).toEqual(['mm']);
        }
        s.push(e.cat!);
      } else if (e.ph === 'E') s.pop();
    }
    expect(epochs).toBeGreaterThan(mmSpans.length - 1);
    const causes = new Set(events.filter((e) => e.ph === 'B' && e.cat === 'exe_file').map((e) => (e.args as { cause: string }).cause));
    for (const c of ['exec', 'fork-inherit', 'prctl-replace', 'startup']) expect(causes).toContain(c);
    const endedBy = new Set(events.filter((e) => e.ph === 'E' && e.cat === 'exe_file').map((e) => (e.args as { endedBy?: string } | undefined)?.endedBy));
    expect(endedBy).toContain('teardown');
    expect(endedBy).toContain('prctl-replace');
  });

  it('the prctl-replace epoch names the file the exe-replaced finding says replaced the exe', () => {
    const replaced = report.findings.find((f) => f.class === 'exe-replaced')!;
    const newExe = replaced.related.find((r) => r.role === 'new-exe')!.file.path;
    const span = events.find((e) => e.ph === 'B' && (e.args as { cause?: string } | undefined)?.cause === 'prctl-replace')!;
    expect((span.args as { exe: string }).exe.startsWith(`${newExe} `)).toBe(true);
  });

  it('every finding is an instant with its explanation, on its mm track, inside the mm span', () => {
    const instants = events.filter((e) => e.ph === 'i' && e.cat!.startsWith('finding'));
    expect(instants).toHaveLength(report.counts.total);
    expect(instants.map((e) => (e.args as { id: string }).id).sort()).toEqual(report.findings.map((f) => f.id).sort());
    for (const e of instants) {
      const f = report.findings.find((x) => x.id === (e.args as { id: string }).id)!;
      expect((e.args as { explanation: string }).explanation).toBe(f.explanation);
      expect((e.args as { evidence: string[] }).evidence.length).toBeGreaterThan(0);
      const mmKey = f.id.slice(0, f.id.indexOf('/'));
      const span = events.find((x) => x.ph === 'B' && x.cat === 'mm' && (x.args as { mm: string }).mm === mmKey)!;
      expect([span.pid, span.tid]).toEqual([e.pid, e.tid]);
      expect(e.ts!).toBeGreaterThanOrEqual(span.ts!);
    }
  });

  it('every /proc/PID/exe read of the trace is an instant', () => {
    const reads = lines.filter((l) => l.includes('"kind":"exe_read"')).length;
    expect(reads).toBeGreaterThan(0);
    expect(events.filter((e) => e.ph === 'i' && e.cat === 'exe_read')).toHaveLength(reads);
  });

  it('timestamps are CLOCK_MONOTONIC microseconds', () => {
    const first = JSON.parse(lines[1]!) as { ts: number };
    const last = JSON.parse(lines[lines.length - 3]!) as { ts: number };
    const tss = events.filter((e) => e.ph !== 'M').map((e) => e.ts!);
    expect(Math.min(...tss)).toBeGreaterThanOrEqual(first.ts / 1000 - 1e6);
    expect(Math.max(...tss)).toBeLessThanOrEqual(last.ts / 1000);
    // The first span on each track starts exactly at its evidence event's ts, in µs.
    const seen = new Set<string>();
    let checked = 0;
    for (const e of events) {
      if (e.ph !== 'B' || e.cat !== 'exe_file' || seen.has(`${e.pid}/${e.tid}`)) continue;
      seen.add(`${e.pid}/${e.tid}`);
      const evidenceTs = Number(/@(\d+)/.exec((e.args as { evidence: string }).evidence)![1]);
      expect(e.ts).toBe(evidenceTs / 1000);
      checked++;
    }
    expect(checked).toBe(report.mms.length);
  });

  it('is written as it is read, not at the end', async () => {
    let writes = 0;
    const counting = new Writable({
      write(_c, _e, cb) {
        writes++;
        cb();
      },
    });
    await (await import('../../src/report/perfetto.js')).exportPerfetto(SAMPLE, counting);
    expect(writes).toBeGreaterThan(10);
  });
});

/** pid 200 (comm "reader") readlinks /proc/100/exe. */
const readlinkBy200 = (ts: number, ret: number, answer: string | null): TraceEvent => ({
  kind: 'exe_read',
  ts,
  pid: 200,
  tid: 200,
  comm: 'reader',
  syscall: 'readlink',
  path: '/proc/100/exe',
  dirName: null,
  targetPid: 100,
  ret,
  answer,
});

describe('export --perfetto on hostile and tricky traces', () => {
  const HOSTILE = file(0x801, 7001, '/tmp/\x1b]0;pwned\x07ev\nil\u202e.bin');
  const A = '0xffff888100000a00';
  const B = '0xffff888100000b00';
  const C = '0xffff888100000c00';
  const trace = (events: TraceEvent[], name: string): string => {
    const path = join(dir, name);
    writeFileSync(path, traceText(events));
    return path;
  };

  it('labels a reused pid apart, marks gaps, and sanitises kernel strings', async () => {
    const events: TraceEvent[] = [
      ...ordinaryLaunch(1_000_000, 100, A, HOSTILE).map((e) => ({ ...e, comm: 'ev\x1b[31mil' }) as TraceEvent),
      ev.exit(2_000_000, 100),
      ev.mmExit(2_000_001, 100, A, HOSTILE),
      ev.gap(2_500_000, 7),
      // pid 100 again: a new process, forked by 1 and exec'ing sleep.
      ev.fork(3_000_000, 1, 100, C),
      ev.attach(3_000_100, 100, B, SH),
      ev.execBegin(3_100_000, 100, B, SLEEP.path!),
      ev.mmExit(3_100_050, 100, B, SH),
      ev.exec(3_100_100, 100, C, SLEEP),
      ev.snapshot(3_100_200, 100, 'exec', SLEEP, ordinaryMaps(SLEEP)),
      { ...ev.snapshot(3_200_000, 100, 'exe_read', SLEEP, ordinaryMaps(SLEEP)) },
      readlinkBy200(3_300_000, 14, '/usr/bin/sleep'),
    ];
    const { code, doc } = await exportTo(trace(events, 'tricky.trace'), 'tricky.json');
    expect(code).toBe(0);
    const all = doc!.traceEvents;
    expect(formatViolations(all)).toEqual([]);
    for (const s of stringsOf(all)) expect(s).not.toMatch(CONTROL);

    const names = all.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => [e.pid, (e.args as { name: string }).name] as const);
    const firstUse = names.filter(([pid]) => pid === 100);
    expect(firstUse.length).toBeGreaterThan(0);
    expect(firstUse[0]![1]).toContain('pwned');
    const reuse = names.filter(([, n]) => n.includes('pid 100 reused'));
    expect(new Set(reuse.map(([pid]) => pid)).size).toBe(1);
    expect(reuse[0]![0]).not.toBe(100);
    // The second process's epochs (fork-inherit of dash, then exec of sleep) are on the reused pid.
    const second = all.filter((e) => e.ph === 'B' && e.cat === 'exe_file' && e.pid === reuse[0]![0]).map((e) => e.name);
    expect(second).toEqual(['dash', 'sleep']);
    const read = all.find((e) => e.ph === 'i' && e.cat === 'exe_read')!;
    expect(read.pid).toBe(reuse[0]![0]);
    expect(read.args).toMatchObject({ reader: { pid: 200 }, answer: '/usr/bin/sleep', syscall: 'readlink' });

    const gap = all.find((e) => e.cat === 'gap')!;
    expect(gap).toMatchObject({ ph: 'i', s: 'g', ts: 2500, args: { lost: 7 } });
    expect(doc!.otherData).toMatchObject({ lostEvents: 7, gaps: 1 });
  });

  it('a pid reused long after (its process forgotten, only its pid remembered) is still a new process', async () => {
    const mmOf = (i: number): string => `0xffff8881${i.toString(16).padStart(8, '0')}`;
    const life = (ts: number, pid: number, i: number): TraceEvent[] => [
      ev.attach(ts, pid, mmOf(i), SH),
      ev.exit(ts + 1, pid),
      ev.mmExit(ts + 2, pid, mmOf(i), SH),
    ];
    const events: TraceEvent[] = [...life(1000, 100, 1)];
    // More dead processes than the exporter keeps in full.
    for (let i = 0; i < 9000; i++) events.push(...life(10_000 + i * 10, 1000 + i, 10 + i));
    events.push(...life(1_000_000, 100, 1));
    const { code, doc } = await exportTo(trace(events, 'reuse-late.trace'), 'reuse-late.json');
    expect(code).toBe(0);
    expect(formatViolations(doc!.traceEvents)).toEqual([]);
    const spans = doc!.traceEvents.filter((e) => e.ph === 'B' && e.cat === 'mm' && (e.args as { pid: number }).pid === 100);
    expect(spans).toHaveLength(2);
    expect(spans[0]!.pid).toBe(100);
    expect(spans[1]!.pid).not.toBe(100);
    const names = doc!.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name' && e.pid === spans[1]!.pid);
    expect(names.map((e) => (e.args as { name: string }).name)).toEqual(['dash (pid 100 reused)']);
  });

  it("a read of a dead process's exe link lands on that process, not on the reader", async () => {
    const events: TraceEvent[] = [
      ...ordinaryLaunch(1000, 200, B),
      ...ordinaryLaunch(2000, 100, A),
      ev.exit(3000, 100),
      ev.mmExit(3001, 100, A, SLEEP),
      readlinkBy200(4000, -2, null),
    ];
    const { doc } = await exportTo(trace(events, 'late-read.trace'), 'late-read.json');
    expect(formatViolations(doc!.traceEvents)).toEqual([]);
    const r = doc!.traceEvents.find((e) => e.cat === 'exe_read')!;
    const span = doc!.traceEvents.find((e) => e.ph === 'B' && e.cat === 'mm' && (e.args as { pid: number }).pid === 100)!;
    expect([r.pid, r.tid]).toEqual([span.pid, span.tid]);
  });

  it('an exe the probe could not name still gives every span a name', async () => {
    const nameless = { ...file(0x801, 4242, '/x'), name: '', path: null };
    const { code, doc } = await exportTo(
      trace([ev.exec(1000, 300, A, nameless), ev.exit(2000, 300), ev.mmExit(2001, 300, A, nameless)], 'nameless.trace'),
      'nameless.json',
    );
    expect(code).toBe(0);
    expect(formatViolations(doc!.traceEvents)).toEqual([]);
    expect(doc!.traceEvents.find((e) => e.ph === 'B' && e.cat === 'exe_file')!.name).toBe('(unnamed, ino 4242)');
  });

  it('a file that is not a trace: exit 2, a clear error, no output file left', async () => {
    const path = join(dir, 'not-a-trace');
    writeFileSync(path, 'hello\n');
    const r = await exportTo(path, 'none.json');
    expect(r.code).toBe(2);
    expect(r.err).toContain('is not a readable exetrace trace');
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(existsSync(r.path)).toBe(false);
  });

  it('OUT - writes the document to stdout and nothing else; no progress bar off a terminal', async () => {
    const r = await runCli(['export', SAMPLE, '--perfetto', '-']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const d = JSON.parse(r.stdout) as ChromeTrace;
    expect(formatViolations(d.traceEvents)).toEqual([]);
  });

  it('OUT -: a reader that goes away after the first bytes (| head) is a normal end: exit 0, nothing on stderr', async () => {
    const [cmd, argv] = cliCommand(['export', SAMPLE, '--perfetto', '-']);
    const child = spawn(cmd, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('an unwritable OUT is exit 1 with the cause, no stack trace', async () => {
    const r = await runCli(['export', SAMPLE, '--perfetto', join(dir, 'no-such-dir', 'x.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write .*ENOENT/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
