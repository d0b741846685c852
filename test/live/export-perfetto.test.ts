// export --perfetto on a live recording of the lab's exe-replaced scenario (the real kernel, the
// real recorder): the process's track holds its exec epoch then its prctl-replace epoch, the
// exe-replaced finding as an instant, and the test's own reads of its /proc/PID/exe link.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChromeTraceEvent } from '../../src/report/perfetto.js';
import { buildLab } from '../lab/build.js';
import { readExe } from '../lab/procfs.js';
import { scenarioById, stopAllScenarios, type RunningScenario } from '../lab/scenarios.js';
import { formatViolations } from '../support/chrome-trace.js';
import { runCli } from '../support/cli.js';
import { skipLive } from '../support/live-gate.js';
import { startRecord } from '../support/record.js';

describe.skipIf(skipLive())('export --perfetto of a live recording', () => {
  const dir = mkdtempSync(join(tmpdir(), 'views-export-live-'));
  let run: RunningScenario;
  let events: ChromeTraceEvent[];
  const READS = 3;

  beforeAll(async () => {
    buildLab();
    const trace = join(dir, 'exe-replaced.trace.jsonl');
    const rec = startRecord({ out: trace });
    let stopped: Awaited<ReturnType<typeof rec.stop>>;
    try {
      await rec.ready;
      run = await scenarioById('exe-replaced').start();
      for (let i = 0; i < READS; i++) {
        readExe(run.pid);
        await new Promise((r) => setTimeout(r, 300));
      }
    } finally {
      await stopAllScenarios();
      stopped = await rec.stop();
    }
    if (stopped.code !== 0) throw new Error(`record exited ${stopped.code}: ${stopped.stderr}`);
    const out = join(dir, 'exe-replaced.json');
    const r = await runCli(['export', trace, '--perfetto', out]);
    if (r.code !== 0) throw new Error(`export exited ${r.code}: ${r.stderr}`);
    events = (JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: ChromeTraceEvent[] }).traceEvents;
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is a valid trace-event document', () => {
    expect(formatViolations(events)).toEqual([]);
  });

  it("the scenario process's track: exec epoch, then the prctl-replace epoch naming the new exe, and the finding", () => {
    const epochs = events.filter((e) => e.ph === 'B' && e.cat === 'exe_file' && e.pid === run.pid);
    const causes = epochs.map((e) => (e.args as { cause: string }).cause);
    expect(causes).toContain('exec');
    expect(causes).toContain('prctl-replace');
    const replaced = epochs.find((e) => (e.args as { cause: string }).cause === 'prctl-replace')!;
    expect((replaced.args as { exe: string }).exe).toContain(`ino ${run.exe.ino}]`);
    const exec = epochs.filter((e) => (e.args as { cause: string }).cause === 'exec' && e.tid === replaced.tid);
    expect(exec.length, 'the exec epoch is on the same mm track, before the prctl').toBe(1);
    expect(exec[0]!.ts!).toBeLessThanOrEqual(replaced.ts!);
    const finding = events.find((e) => e.ph === 'i' && e.name === 'exe-replaced' && e.pid === run.pid);
    expect(finding, 'exe-replaced instant on the process').toBeDefined();
    expect(finding!.tid).toBe(replaced.tid);
    expect((finding!.args as { explanation: string }).explanation).toMatch(/prctl\(PR_SET_MM\) replaced exe_file/);
  });

  it('the test’s readlink of /proc/PID/exe appear as instants on that process, with the answer', () => {
    const reads = events.filter((e) => e.ph === 'i' && e.cat === 'exe_read' && (e.args as { target: number | null }).target === run.pid);
    expect(reads.length).toBeGreaterThanOrEqual(READS);
    expect(reads.filter((r) => r.pid !== run.pid)).toEqual([]);
    expect(reads.some((r) => (r.args as { answer: string | null }).answer === run.exe.path)).toBe(true);
  });
});
