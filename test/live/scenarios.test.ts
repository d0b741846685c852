// Each lab scenario, recorded with the real recorder and analyzed: the collector must name the
// exact class for the scenario's pid, and nothing else for it. One recording holds every
// scenario in turn (bpftrace takes seconds to attach); findings are told apart by pid.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipLive } from '../support/live-gate.js';
import { startRecord } from '../support/record.js';
import { analyzeJson, findingsForPid, type AnalyzeOutput, type AnalyzeFinding, type AnalyzeMm } from '../lab/analyze.js';
import { buildLab } from '../lab/build.js';
import { readExe } from '../lab/procfs.js';
import { scenarios, stopAllScenarios, type RunningScenario, type Scenario } from '../lab/scenarios.js';

const MISMATCH_CLASSES = ['loader-exec', 'decoy-mapping', 'text-unmapped', 'stacked-fs', 'exe-replaced'];
/** The whole recording: every scenario in turn. */
const RECORD_TIMEOUT_MS = 900_000;
/** Time the scenario stays up after "ready" so the recorder's settle-time snapshot lands. */
const HOLD_MS = 1_500;

interface Recorded {
  run: RunningScenario;
  analysis: AnalyzeOutput;
  /** For failure messages: the analyzer's findings for the scenario's pid. */
  forPid: AnalyzeFinding[];
  /** The analyzer's mms for the scenario's pid. */
  mms: AnalyzeMm[];
}

describe.skipIf(skipLive())('collector finds each lab scenario (recorded live, analyzed offline)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exetrace-scenarios-'));
  const results = new Map<string, Recorded | Error>();

  async function runScenario(scenario: Scenario): Promise<RunningScenario> {
    const run = await scenario.start();
    try {
      // A reader of the exe link, as a user would be: the recorder snapshots /proc at exe reads,
      // which is the only way a trace can learn that a running executable was unlinked.
      readExe(run.pid);
      await new Promise((r) => setTimeout(r, HOLD_MS));
      readExe(run.pid);
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await run.stop();
    }
    return run;
  }

  beforeAll(async () => {
    buildLab();
    const out = join(dir, 'scenarios.trace.jsonl');
    const rec = startRecord({ out, args: [] });
    const runs = new Map<string, RunningScenario>();
    try {
      await rec.ready;
      for (const s of scenarios) {
        try {
          runs.set(s.id, await runScenario(s));
        } catch (err) {
          results.set(s.id, err instanceof Error ? err : new Error(String(err)));
        }
      }
    } finally {
      const stopped = await rec.stop();
      // eslint-disable-next-line no-unsafe-finally -- a recorder that did not stop cleanly is the failure to report
      if (stopped.code !== 0) throw new Error(`record exited ${stopped.code}: ${stopped.stderr}`);
    }
    const analysis = await analyzeJson(out);
    for (const [id, run] of runs) {
      results.set(id, { run, analysis, forPid: findingsForPid(analysis, run.pid), mms: analysis.mms.filter((m) => m.pids.includes(run.pid)) });
    }
  }, RECORD_TIMEOUT_MS);

  afterAll(async () => {
    await stopAllScenarios();
    rmSync(dir, { recursive: true, force: true });
  });

  function get(id: string): Recorded {
    const r = results.get(id);
    if (r === undefined) throw new Error(`scenario ${id} was not recorded`);
    if (r instanceof Error) throw r;
    return r;
  }

  for (const scenario of scenarios) {
    const expected = scenario.expectedClass;
    it(`${scenario.id}: ${expected ?? 'no finding'} for the scenario's pid`, () => {
      const { run, analysis, forPid } = get(scenario.id);
      const detail = JSON.stringify(forPid, null, 2);
      const mismatches = forPid.filter((f) => f.kind === 'mismatch');
      if (expected === null) {
        // Not even a note: look-alike names, scripts, fd execs and lower-layer binaries are ordinary.
        expect(forPid, detail).toEqual([]);
        return;
      }
      const hits = forPid.filter((f) => f.class === expected);
      expect(hits.length, `no ${expected} finding for pid ${run.pid}; findings for it:\n${detail}`).toBeGreaterThan(0);
      if (MISMATCH_CLASSES.includes(expected)) {
        for (const f of hits) {
          expect(f.kind, detail).toBe('mismatch');
          expect(f.uncertain, detail).toBe(false);
        }
      } else {
        for (const f of hits) expect(f.kind, detail).toBe('note');
      }
      // Exactly this class: no other mismatch is reported for the scenario's process. One
      // exception is true on the kernel: exe-replaced must unmap its old exe before the prctl,
      // so for that instant the old exe had no executable mapping (text-unmapped about oldExe).
      const others = mismatches.filter((f) => f.class !== expected);
      const legit = others.filter((f) => expected === 'exe-replaced' && f.class === 'text-unmapped' && f.exe?.ino === run.oldExe!.ino);
      expect(
        others.filter((f) => !legit.includes(f)),
        detail,
      ).toEqual([]);
      expect(analysis.counts.byClass[expected], 'counts.byClass must count the class').toBeGreaterThan(0);
    });
  }

  it('exe-replaced: the finding names the new file as exe and the scenario binary as the old one', () => {
    const { run, forPid } = get('exe-replaced');
    const f = forPid.find((x) => x.class === 'exe-replaced');
    expect(f, JSON.stringify(forPid, null, 2)).toBeDefined();
    const text = JSON.stringify(f);
    expect(f!.exe?.ino, text).toBe(run.exe.ino);
    expect(text).toContain(String(run.oldExe!.ino));
  });

  it('ldso-launch: the finding names ld.so as exe and reports the program it loaded', () => {
    const { run, forPid } = get('ldso-launch');
    const f = forPid.find((x) => x.class === 'loader-exec');
    expect(f, JSON.stringify(forPid, null, 2)).toBeDefined();
    expect([f!.exe?.dev, f!.exe?.ino], JSON.stringify(f)).toEqual([run.exe.dev, run.exe.ino]);
    expect(JSON.stringify(f), 'the loaded program is not named anywhere in the finding').toContain(run.loaded!.path);
  });

  for (const scenario of scenarios.filter((s) => ['hashbang-script', 'execveat-empty-path', 'fexecve'].includes(s.id))) {
    it(`${scenario.id}: analyze shows execve's filename and argv[0] next to comm and exe`, () => {
      const { run, mms } = get(scenario.id);
      const execd = mms.find((m) => m.exe?.ino === run.exe.ino && m.request.filename !== null);
      expect(execd, JSON.stringify(mms, null, 2)).toBeDefined();
      expect([execd!.exe?.dev, execd!.exe?.ino]).toEqual([run.exe.dev, run.exe.ino]);
      expect(execd!.request.filename).toBe(run.request!.filename);
      expect(execd!.request.argv0).toBe(run.request!.argv0);
      if (scenario.id === 'hashbang-script') {
        // Side by side: the interpreter runs (exe), the script is what was executed.
        expect(execd!.request.interp).toBe('/bin/sh');
        expect(execd!.request.filename).not.toBe(execd!.exe?.path);
      } else {
        // The kernel names an fd exec /dev/fd/N; comm comes from the file's name (6.14+), not argv[0].
        expect(execd!.comm, JSON.stringify(execd)).toBe('sleeper');
      }
    });
  }

  it('ldso-renamed-copy: loader-exec for a copy of ld.so under another name, with the program it loaded', () => {
    const { run, forPid } = get('ldso-renamed-copy');
    const f = forPid.find((x) => x.class === 'loader-exec');
    expect(f, JSON.stringify(forPid, null, 2)).toBeDefined();
    expect([f!.exe?.dev, f!.exe?.ino]).toEqual([run.exe.dev, run.exe.ino]);
    expect(JSON.stringify(f), 'the loaded program is not named in the finding').toContain(run.loaded!.path);
  });

  it('memfd-self-clone: the note is labelled expected by the shipped exceptions, and counted apart', async () => {
    const { run, forPid, analysis } = get('memfd-self-clone');
    const f = forPid.find((x) => x.class === 'exe-memfd');
    expect(f, JSON.stringify(forPid, null, 2)).toBeDefined();
    expect(f!.expected, JSON.stringify(f, null, 2)).toBe('runc-memfd-self-clone');
    expect(f!.exe?.path).toMatch(/^\/memfd:runc_cloned:\/proc\/self\/exe/);
    expect(analysis.counts.expectedByClass['exe-memfd']).toBeGreaterThan(0);
    expect(analysis.counts.expected + analysis.counts.unexpected).toBe(analysis.counts.total);
    // The plain memfd exec of the lab is not runc's: it stays unexpected.
    const plainMemfd = findingsForPid(analysis, get('memfd-exec').run.pid).find((x) => x.class === 'exe-memfd');
    expect(plainMemfd?.expected).toBeNull();
    // Without the shipped list the same trace has it unexpected.
    const bare = await analyzeJson(join(dir, 'scenarios.trace.jsonl'), ['--no-default-exceptions']);
    expect(findingsForPid(bare, run.pid).find((x) => x.class === 'exe-memfd')?.expected).toBeNull();
    expect(bare.counts.expected).toBe(0);
  });

  it('memfd-exec: the note names the memfd', () => {
    const { forPid } = get('memfd-exec');
    const f = forPid.find((x) => x.class === 'exe-memfd');
    expect(f, JSON.stringify(forPid, null, 2)).toBeDefined();
    expect(f!.exe?.path ?? f!.exe?.name, JSON.stringify(f)).toMatch(/memfd:exetrace-lab/);
  });

  for (const id of ['decoy', 'nested-overlay'] as const) {
    it(`${id}: the VMA-walk answer is the expected other file, exe_file the program`, () => {
      const { run, forPid } = get(id);
      const f = forPid.find((x) => x.class === run.expectedClass);
      expect(f, `${id}: ${JSON.stringify(forPid, null, 2)}`).toBeDefined();
      expect([f!.vmaWalk?.dev, f!.vmaWalk?.ino], `${id}: ${JSON.stringify(f)}`).toEqual([run.vmaWalk!.dev, run.vmaWalk!.ino]);
      expect(f!.exe?.ino, `${id}: ${JSON.stringify(f)}`).toBe(run.exe.ino);
      // stat's st_dev, or the superblock's where overlayfs makes them differ (see test/lab/README.md).
      expect([run.exe.dev, run.exe.sbDev], `${id}: ${JSON.stringify(f)}`).toContain(f!.exe?.dev);
    });
  }
});
