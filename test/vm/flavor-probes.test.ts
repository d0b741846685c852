// The kfunc and kprobe programs are generated from tracepoint.bt; they must be current, and the
// kprobe one must compile here (kfunc cannot even be compiled on a kernel that refuses fentry:
// bpftrace 0.17 probes for it; the VM test proves it on stock kernels).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flavorProgramPath, generateFlavorProgram, generateFromRepo, ProbeTemplateError, toModernSyntax } from './flavor-probes.js';
import { PROJECT_ROOT } from './paths.js';
import { parseResults } from './boot.js';

function hasBpftrace(): boolean {
  try {
    execFileSync('bpftrace', ['--version'], { stdio: 'pipe' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

describe('generated function-flavor probes', () => {
  for (const flavor of ['kfunc', 'kprobe'] as const) {
    it(`probes/${flavor}.bt is current with tracepoint.bt (regenerate: node --import tsx test/vm/flavor-probes.ts)`, () => {
      expect(readFileSync(flavorProgramPath(flavor), 'utf8')).toBe(generateFromRepo(flavor));
    });
  }

  it('keeps every printf of tracepoint.bt except the replaced blocks', () => {
    const tp = readFileSync(join(PROJECT_ROOT, 'probes', 'tracepoint.bt'), 'utf8');
    const heads = (t: string) => new Set([...t.matchAll(/printf\("H (\w+) /g)].map((m) => m[1]));
    for (const flavor of ['kfunc', 'kprobe'] as const) expect(heads(generateFromRepo(flavor))).toEqual(heads(tp));
  });

  it('fails loudly when tracepoint.bt loses a block it replaces', () => {
    const tp = readFileSync(join(PROJECT_ROOT, 'probes', 'tracepoint.bt'), 'utf8').replace('tracepoint:mmap:exit_mmap', 'tracepoint:mmap:other');
    expect(() => generateFlavorProgram(tp, 'kfunc')).toThrow(ProbeTemplateError);
  });

  it('spells fentry/fexit and args. for newer bpftrace', () => {
    const modern = toModernSyntax(generateFromRepo('kfunc'));
    expect(modern).toContain('fentry:begin_new_exec');
    expect(modern).toContain('fexit:begin_new_exec');
    expect(modern).not.toMatch(/\bkfunc:|args->/);
  });

  it.skipIf(!hasBpftrace())('kprobe.bt compiles with bpftrace --emit-elf (both VMA-removal variants)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'exetrace-emit-'));
    try {
      for (const fn of ['remove_vma', 'vm_area_free']) {
        const out = join(dir, `${fn}.o`);
        const r = spawnSync('bpftrace', ['--emit-elf', out, flavorProgramPath('kprobe'), '0', 'exetrace:no-comm', '1', '32', fn], { encoding: 'utf8', timeout: 300_000 });
        const errors = r.stderr.split('\n').filter((l) => /ERROR/.test(l) && !/RLIMIT_MEMLOCK/.test(l));
        expect(errors, r.stderr).toEqual([]);
        expect(r.status).toBe(0);
        expect(statSync(out).size).toBeGreaterThan(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
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
