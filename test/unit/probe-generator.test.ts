// Every program but tracepoint.bt is generated from it by scripts/flavor-probes.ts
// (`npm run probes:gen`): regenerate in memory and compare with the committed files, so a stale
// generated probe fails npm test. Compiling them needs bpftrace: test/vm/flavor-probes.test.ts
// (0.17 on the host) and the VM guests (0.17 and 0.23 on stock kernels).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_023,
  GENERATED_PROGRAMS,
  generateFlavorProgram,
  generateFromRepo,
  programPath,
  ProbeTemplateError,
  toDialect023,
} from '../../scripts/flavor-probes.js';

const PROJECT_ROOT = join(import.meta.dirname, '..', '..');
const tracepointText = readFileSync(join(PROJECT_ROOT, 'probes', 'tracepoint.bt'), 'utf8');
const heads = (t: string) => new Set([...t.matchAll(/printf\("H (\w+) /g)].map((m) => m[1]));
/** Attach points: lines that start a probe (a letter at column 0, not inside the header comment). */
const probes = (t: string) =>
  t
    .slice(t.indexOf('*/'))
    .split('\n')
    .filter((l) => /^[a-z]+:[\w$:]+,?$/.test(l))
    .map((l) => l.replace(/,$/, ''));

describe('generated probe programs', () => {
  for (const { flavor, variant } of GENERATED_PROGRAMS) {
    const rel = programPath(flavor, variant).slice(PROJECT_ROOT.length + 1);
    it(`${rel} is current with tracepoint.bt (regenerate: npm run probes:gen)`, () => {
      expect(readFileSync(programPath(flavor, variant), 'utf8')).toBe(generateFromRepo(flavor, variant));
    });
    it(`${rel} keeps every printf head of tracepoint.bt`, () => {
      expect(heads(generateFromRepo(flavor, variant))).toEqual(heads(tracepointText));
    });
  }

  it('fails loudly when tracepoint.bt loses a block it replaces', () => {
    const tp = tracepointText.replace('tracepoint:mmap:exit_mmap', 'tracepoint:mmap:other');
    expect(() => generateFlavorProgram(tp, 'kfunc')).toThrow(ProbeTemplateError);
  });
});

describe('bpftrace 0.23 programs', () => {
  const variant = { dialect: '0.23', execEntry: 'begin_new_exec' } as const;

  it('kfunc: fentry/fexit (the 0.20+ names) and args.x (0.19+: args is a struct)', () => {
    const t = generateFromRepo('kfunc', variant);
    expect(probes(t)).toContain('fentry:begin_new_exec');
    expect(probes(t)).toContain('fexit:begin_new_exec');
    expect(probes(t)).toContain('fexit:proc_exe_link');
    expect(t).toContain('$bprm = (struct linux_binprm *)args.bprm;');
    expect(t).not.toMatch(/\bkfunc:|\bkretfunc:|args->/);
  });

  it('tracepoint: the same probes as tracepoint.bt, reading args.x', () => {
    const t = generateFromRepo('tracepoint', variant);
    expect(probes(t)).toEqual(probes(tracepointText));
    expect(t).not.toContain('args->');
    expect(t).toContain('str(args.filename)');
    // Apart from the spelling and the header, the text is tracepoint.bt's.
    // 0.23 counts the NUL in str()'s size: the readlink answer (ret bytes, no NUL) reads ret + 1.
    expect(t).toContain('str(uptr($a.2), args.ret + 1)');
    const body = (s: string) =>
      s
        .slice(s.indexOf('*/'))
        .replace(CONFIG_023 + '\n', '')
        .replace('args.ret + 1)', 'args.ret)')
        .replace(/args\./g, 'args->');
    expect(body(t)).toBe(body(tracepointText));
  });

  it('every 0.23 program sets the config block right after its header, before any probe', () => {
    for (const { flavor, variant: v } of GENERATED_PROGRAMS.filter((p) => p.variant.dialect === '0.23')) {
      const t = generateFromRepo(flavor, v);
      const at = t.indexOf('config = {');
      expect(at, `${flavor} ${v.execEntry}`).toBeGreaterThan(t.indexOf('*/'));
      expect(at).toBeLessThan(t.indexOf('\nBEGIN'));
      expect(t.match(/config = \{/g)).toHaveLength(1);
    }
    // 256: NAME_MAX + 1, so no path component is cut (0.17 had 64); no ".." on a cut string
    // (0.18+ adds it); no map dump at exit (0.22+); a probe that cannot attach is an error.
    expect(CONFIG_023).toMatch(/max_strlen = 256;/);
    expect(CONFIG_023).toMatch(/str_trunc_trailer = "";/);
    expect(CONFIG_023).toMatch(/print_maps_on_exit = 0;/);
    expect(CONFIG_023).toMatch(/missing_probes = "error"/);
  });

  it('the 0.17 programs have no config block and keep the old spelling', () => {
    for (const { flavor, variant: v } of GENERATED_PROGRAMS.filter((p) => p.variant.dialect === '0.17')) {
      const t = generateFromRepo(flavor, v);
      expect(t).not.toContain('config = {');
      expect(t).not.toMatch(/\bfentry:|\bfexit:/);
    }
  });

  it('toDialect023 refuses a program without a header comment', () => {
    expect(() => toDialect023('BEGIN { }\n')).toThrow(ProbeTemplateError);
  });
});

describe('flush_old_exec programs (kernels before 5.8)', () => {
  for (const dialect of ['0.17', '0.23'] as const) {
    for (const flavor of ['kfunc', 'kprobe'] as const) {
      it(`${dialect} ${flavor}: flush_old_exec replaces begin_new_exec and nothing else changes`, () => {
        const old = generateFromRepo(flavor, { dialect, execEntry: 'flush_old_exec' });
        const cur = generateFromRepo(flavor, { dialect, execEntry: 'begin_new_exec' });
        const [entry, ret] = flavor === 'kprobe' ? ['kprobe', 'kretprobe'] : dialect === '0.23' ? ['fentry', 'fexit'] : ['kfunc', 'kretfunc'];
        expect(probes(old)).toContain(`${entry}:flush_old_exec`);
        expect(probes(old)).toContain(`${ret}:flush_old_exec`);
        expect(old).not.toMatch(/^[a-z]+:begin_new_exec$/m);
        expect(old).toContain('VARIANT:');
        expect(old).toMatch(/kernels before 5\.8 \(flush_old_exec\)/);
        // Same argument (bprm) and return: the only differences are the name and the header line.
        const norm = (s: string) => s.replace(/flush_old_exec|begin_new_exec/g, 'EXEC').replace(/^ \* VARIANT:.*$/m, '');
        expect(norm(old)).toBe(norm(cur));
      });
    }
  }
});
