// Boots stock Debian kernels under qemu, records the scenario lab with the kfunc and kprobe
// flavors in the guest, and checks on the host that `exetrace analyze` gives, scenario by
// scenario, the same finding classes at the scenario's pid as the tracepoint flavor gives for
// the same lab recorded on this host.
// Needs root, qemu-system-x86_64, debootstrap, cpio, zstd and the Debian mirror; with
// EXETRACE_REQUIRE_LIVE=1 a missing piece fails instead of skipping.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KERNEL_TARGETS } from './fetch.js';
import { runInGuest } from './harness.js';
import type { GuestResult } from './boot.js';
import type { ExeReadEvent } from '../../src/trace/events.js';
import { decodeKernelBytes, encodeKernelString } from '../../src/trace/kernel-string.js';
import { recordAroundLab, type LabRecording } from './lab-recording.js';
import { PROJECT_ROOT, VM_CACHE } from './paths.js';
import { requireLive, skipLive } from '../support/live-gate.js';

const CLI = join(PROJECT_ROOT, 'dist', 'src', 'cli', 'main.js');

function missingTool(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const t of ['qemu-system-x86_64', 'debootstrap', 'cpio', 'zstd', 'dpkg-deb', 'apt-get']) {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'pipe' });
    } catch {
      return `${t} not installed`;
    }
  }
  return null;
}

const missing = missingTool();
if (missing && requireLive) throw new Error(`VM test cannot run but EXETRACE_REQUIRE_LIVE=1: ${missing}`);

interface Finding {
  class: string;
  pid: number;
}

function analyze(trace: string): Finding[] {
  const out = execFileSync(process.execPath, [CLI, 'analyze', trace, '--format', 'json'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const parsed = JSON.parse(out) as { findings?: Finding[] } | Finding[];
  return Array.isArray(parsed) ? parsed : (parsed.findings ?? []);
}

/** scenario id -> sorted finding classes at that scenario's pid. */
function classesByScenario(rec: LabRecording, findings: Finding[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const run of rec.runs ?? []) {
    m.set(run.id, [...new Set(findings.filter((f) => f.pid === run.pid).map((f) => f.class))].sort());
  }
  return m;
}

/**
 * proc_exe_link runs inside every readlink of an exe link, so each successful readlink (short
 * enough not to be cut at BPFTRACE_STRLEN) must follow, on its tid, a proc_exe_link event with
 * the same target and the same path less " (deleted)". Returns the mismatches and the count.
 */
function checkExeLinks(trace: string): { links: number; checked: number; bad: string[] } {
  const reads = readFileSync(trace, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"exe_read"'))
    .map((l) => JSON.parse(l) as ExeReadEvent)
    .filter((e) => e.kind === 'exe_read');
  const lastLink = new Map<number, ExeReadEvent>();
  const bad: string[] = [];
  let links = 0;
  let checked = 0;
  for (const e of reads) {
    if (e.syscall === 'proc_exe_link') {
      links++;
      lastLink.set(e.tid, e);
      continue;
    }
    if ((e.syscall !== 'readlink' && e.syscall !== 'readlinkat') || e.ret <= 0 || e.ret >= 63 || e.answer === null) continue;
    if (e.path.includes('/task/')) continue;
    checked++;
    const link = lastLink.get(e.tid);
    // The readlink probe may print one byte past `ret` (bpftrace 0.17 str(buf, ret + 1)): cut at ret.
    const want = decodeKernelBytes(encodeKernelString(e.answer).subarray(0, e.ret)).replace(/ \(deleted\)$/, '');
    if (!link || link.ts > e.ts || link.targetPid !== e.targetPid || link.ret !== 0 || link.answer !== want) {
      bad.push(`${JSON.stringify(e)} <- ${JSON.stringify(link ?? null)}`);
    }
    lastLink.delete(e.tid);
  }
  return { links, checked, bad };
}

function checkRecording(rec: LabRecording | null, where: string): asserts rec is LabRecording {
  expect(rec, `${where}: no scenario record`).not.toBeNull();
  expect(rec!.labError, `${where}: the lab failed`).toBeNull();
  expect(rec!.runs, `${where}: the recorder died before the lab ran (see ${where}.record.log)`).not.toBeNull();
}

describe.skipIf(missing !== null || skipLive())('kfunc and kprobe flavors on stock Debian kernels under qemu', () => {
  let baseline: Map<string, string[]>;
  // Both guests boot at once (TCG is single-threaded per vCPU; two guests use both host cores).
  const guests = new Map<string, Promise<GuestResult | Error>>();

  beforeAll(async () => {
    for (const t of KERNEL_TARGETS)
      guests.set(
        t.name,
        runInGuest(t).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
      );
    const dir = join(VM_CACHE, 'results', 'host-tracepoint');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const rec = await recordAroundLab(CLI, 'tracepoint', dir);
    checkRecording(rec, `${dir}/tracepoint`);
    baseline = classesByScenario(rec, analyze(join(dir, 'tracepoint.trace.jsonl')));
    // The baseline must itself find what each scenario is for, or the comparison proves nothing.
    for (const run of rec.runs!) {
      if (run.expectedClass) expect(baseline.get(run.id), `host tracepoint ${run.id}`).toContain(run.expectedClass);
    }
  });

  for (const target of KERNEL_TARGETS) {
    it(`${target.name}: same findings as the host's tracepoint flavor`, async () => {
      const r = await guests.get(target.name)!;
      if (r instanceof Error) throw r;
      const dir = join(VM_CACHE, 'results', target.name);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const [name, data] of r.files) writeFileSync(join(dir, name), data);
      expect(r.booted, `guest did not boot; console tail:\n${r.console.slice(-2000)}`).not.toBeNull();
      expect(r.rc, `guest job did not finish; see ${dir}`).toBe(0);
      // The guest's own tracepoint run (6.8+ only) is a control for timing effects, not asserted.
      const control = JSON.parse(r.files.get('tracepoint.scenarios.json')?.toString() ?? 'null') as LabRecording | null;
      if (control?.runs) {
        const got = classesByScenario(control, analyze(join(dir, 'tracepoint.trace.jsonl')));
        process.stderr.write(`${target.name} tracepoint control: ${JSON.stringify(Object.fromEntries(got))}\n`);
      }
      for (const flavor of ['kfunc', 'kprobe']) {
        const rec = JSON.parse(r.files.get(`${flavor}.scenarios.json`)?.toString() ?? 'null') as LabRecording | null;
        checkRecording(rec, `${dir}/${flavor}`);
        expect(rec.traceBytes, `${flavor}: no trace`).toBeGreaterThan(0);
        const got = classesByScenario(rec, analyze(join(dir, `${flavor}.trace.jsonl`)));
        expect(Object.fromEntries(got), `${target.name} ${flavor}`).toEqual(Object.fromEntries(baseline));
        const links = checkExeLinks(join(dir, `${flavor}.trace.jsonl`));
        process.stderr.write(`${target.name} ${flavor}: ${links.links} proc_exe_link events, ${links.checked} readlinks checked\n`);
        expect(links.bad, `${target.name} ${flavor}: readlink answers without a matching proc_exe_link`).toEqual([]);
        expect(links.checked, `${target.name} ${flavor}: no readlink of an exe link to check proc_exe_link against`).toBeGreaterThan(0);
      }
    });
  }
});
