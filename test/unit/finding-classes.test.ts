// The finding-class table is the one list: the docs and the derived lists follow it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FINDING_CLASS_TABLE, FINDING_CLASSES, FINDING_KIND, classOfScenario } from '../../src/model/finding-classes.js';
import { classSupport } from '../../src/report/flavor-capabilities.js';
import { scenarios } from '../lab/scenarios.js';

const FINDINGS_DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'findings.md'), 'utf8');

describe('finding classes', () => {
  it('docs/findings.md has a section per class, headed with its kind', () => {
    const headed = [...FINDINGS_DOC.matchAll(/^### `([a-z-]+)` \((mismatch|note)\)$/gm)].map((m) => [m[1], m[2]]);
    expect(headed).toEqual(FINDING_CLASSES.map((c) => [c, FINDING_KIND[c]]));
  });

  it('each lab scenario expects the class that names it, and every class has one', () => {
    // Scenarios the table does not name (evasions, look-alikes, exec shapes) say their own class.
    for (const s of scenarios) if (classOfScenario(s.id) !== null) expect(s.expectedClass, s.id).toBe(classOfScenario(s.id));
    expect([...new Set(scenarios.map((s) => s.expectedClass).filter((c) => c !== null))].sort()).toEqual([...FINDING_CLASSES].sort());
    for (const c of FINDING_CLASSES)
      expect(
        scenarios.some((s) => s.id === FINDING_CLASS_TABLE[c].scenario && s.expectedClass === c),
        c,
      ).toBe(true);
    expect(new Set(FINDING_CLASSES.map((c) => FINDING_CLASS_TABLE[c].scenario)).size).toBe(FINDING_CLASSES.length);
  });

  it('doctor names each flavor’s hook in the evidence a class needs', () => {
    const needs = (flavor: 'tracepoint' | 'kprobe' | 'kfunc') => new Map(classSupport(flavor).map((c) => [c.findingClass, c.needs]));
    expect(needs('tracepoint').get('loader-exec')).toBe(
      "exec (sched:sched_process_exec) + executable mmaps + a /proc snapshot (auxv AT_BASE, the exe's ELF headers)",
    );
    expect(needs('kfunc').get('exe-memfd')).toBe("exe_file's mount and superblock at exec (kfunc:finalize_exec after begin_new_exec), or a /proc snapshot");
    expect(needs('kprobe').get('text-unmapped')).toBe('munmap/mremap syscalls + kprobe:remove_vma (vm_area_free where inlined) + a /proc maps snapshot');
    expect([...needs('kprobe').keys()]).toEqual([...FINDING_CLASSES]);
  });
});
