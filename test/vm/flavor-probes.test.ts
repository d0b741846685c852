// The kfunc and kprobe programs are generated from tracepoint.bt (scripts/flavor-probes.ts; the
// drift check is test/unit/probe-generator.test.ts). The kprobe one must compile here (kfunc
// cannot even be compiled on a kernel that refuses fentry: bpftrace 0.17 probes for it; the VM
// test proves it on stock kernels).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { programPath } from '../../scripts/flavor-probes.js';
import { DEFAULT_VARIANT } from '../../src/trace/probe-program.js';
import { parseResults } from './boot.js';

function hasBpftrace(): boolean {
  try {
    execFileSync('bpftrace', ['--version'], { stdio: 'pipe' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

describe('generated function-flavor probes compile', () => {
  // The 5.8+ program with both VMA-removal functions, and the flush_old_exec one (kernels before
  // 5.8: compiled here, never loaded, as no such kernel is available).
  const cases = [
    { variant: DEFAULT_VARIANT, fn: 'remove_vma' },
    { variant: DEFAULT_VARIANT, fn: 'vm_area_free' },
    { variant: { dialect: '0.17', execEntry: 'flush_old_exec' } as const, fn: 'remove_vma' },
  ];
  for (const { variant, fn } of cases) {
    const rel = programPath('kprobe', variant).split('/probes/')[1];
    it.skipIf(!hasBpftrace())(
      `probes/${rel} compiles with bpftrace --emit-elf ($7 = ${fn})`,
      () => {
        const dir = mkdtempSync(join(tmpdir(), 'exetrace-emit-'));
        try {
          const out = join(dir, `${fn}.o`);
          const r = spawnSync('bpftrace', ['--emit-elf', out, programPath('kprobe', variant), '0', 'exetrace:no-comm', '1', '32', '1752', '1312', fn], {
            encoding: 'utf8',
            timeout: 300_000,
          });
          const errors = r.stderr.split('\n').filter((l) => /ERROR/.test(l) && !/RLIMIT_MEMLOCK/.test(l));
          expect(errors, r.stderr).toEqual([]);
          expect(r.status).toBe(0);
          expect(statSync(out).size).toBeGreaterThan(0);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      600_000,
    );
  }
});

describe('ttyS1 result framing', () => {
  it('decodes files and tolerates a stream cut in the middle of one', () => {
    const body = Buffer.from('line one\n\x00\xff binary', 'latin1').toString('base64');
    const text = `junk\n@@BOOTED 6.1.0-50-amd64\n@@BEGIN a.txt\n${body}\n@@END a.txt\n@@BEGIN b.txt\nQUJD\n`;
    const r = parseResults(text);
    expect(r.booted).toBe('6.1.0-50-amd64');
    expect(r.files.get('a.txt')?.toString('latin1')).toBe('line one\n\x00\xff binary');
    expect(r.files.has('b.txt')).toBe(false);
    expect(r.done).toBe(false);
    expect(parseResults(`${text}@@END b.txt\n@@RC 3\n@@DONE\n`).rc).toBe(3);
  });
});
