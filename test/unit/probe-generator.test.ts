// The kfunc and kprobe programs are generated from tracepoint.bt by scripts/flavor-probes.ts
// (`npm run probes:gen`): regenerate in memory and compare with the committed files, so a stale
// generated probe fails npm test. Compiling them needs bpftrace: test/vm/flavor-probes.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flavorProgramPath, generateFlavorProgram, generateFromRepo, ProbeTemplateError, toModernSyntax } from '../../scripts/flavor-probes.js';

const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

describe('generated function-flavor probes', () => {
  for (const flavor of ['kfunc', 'kprobe'] as const) {
    it(`probes/${flavor}.bt is current with tracepoint.bt (regenerate: npm run probes:gen)`, () => {
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
});
