import { FINDING_CLASSES } from '../../src/model/index.js';
import { describe, expect, it } from 'vitest';
import { runCli, runCliAsNobody } from '../support/cli.js';
import { skipLive } from '../support/live-gate.js';

describe.skipIf(skipLive())('exetrace doctor (live)', () => {
  it('finds by trying that only the tracepoint flavor loads here, and auto picks it', async () => {
    const r = await runCli(['doctor', '--json']);
    const report = JSON.parse(r.stdout) as {
      kernelRelease: string;
      root: boolean;
      lockdown: { mode: string | null };
      btf: boolean;
      tracefs: { path: string | null };
      kprobeEvents: boolean;
      bpftrace: { path: string; version: string; dialect: string; findsBtf: boolean | null; programs: string; changes: unknown[] };
      execEntry: { function: string | null; source: string | null; note: string | null };
      trials: Record<string, { loads: boolean | null; reason: string; detects: string[] }>;
      auto: { flavor: string | null; reason: string };
    };
    expect(report.root).toBe(true);
    expect(report.kernelRelease).toBe((await import('node:os')).release());
    expect(report.bpftrace.version).toMatch(/^v\d+\.\d+/);
    expect(report.tracefs.path).toMatch(/tracing$/);
    // bpftrace 0.17 here: its own language, no change to list, the kernel's BTF found by itself.
    expect(report.bpftrace).toMatchObject({ dialect: '0.17', findsBtf: true, programs: 'probes/', changes: [] });
    expect(report.execEntry).toEqual({ function: 'begin_new_exec', source: 'btf', note: null });
    expect(typeof report.lockdown.mode).toBe('string');
    // Facts of this host (DEVELOPERS.md): no kprobes compiled in, fentry refused, tracepoints work.
    expect(report.kprobeEvents).toBe(false);
    expect(report.trials.kprobe).toMatchObject({ loads: false });
    expect(report.trials.kprobe!.reason).toMatch(/kprobe:mmput failed to attach/);
    expect(report.trials.kfunc).toMatchObject({ loads: false });
    expect(report.trials.tracepoint).toMatchObject({ loads: true, reason: 'a tracepoint probe attached (tracepoint:sched:sched_prepare_exec)' });
    expect(report.auto.flavor).toBe('tracepoint');
    // Which finding classes each flavor detects here: everything through tracepoints, nothing else.
    expect([...report.trials.tracepoint!.detects].sort()).toEqual([...FINDING_CLASSES].sort());
    expect(report.trials.kfunc!.detects).toEqual([]);
    expect(report.trials.kprobe!.detects).toEqual([]);
    expect(report.auto.reason).toMatch(/kfunc: .*kprobe: /);
    expect(r.code).toBe(0);
    const text = await runCli(['doctor']);
    expect(text.stdout).toMatch(/^auto picks\s+tracepoint: /m);
    expect(text.stdout).toMatch(/^bpftrace language\s+0\.17 \(programs in probes\/\)$/m);
    expect(text.stdout).toMatch(/^exec entry function\s+begin_new_exec \(from btf\)$/m);
  }, 120_000);

  it('as a non-root user says it needs root and exits non-zero', async () => {
    const r = await runCliAsNobody(['doctor']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/doctor needs root/);
    expect(r.stdout).toMatch(/^root\s+no$/m);
  }, 60_000);
});
