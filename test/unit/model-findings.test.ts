// Each finding class: a positive stream and the ordinary look-alike that must stay silent.
import { describe, expect, it } from 'vitest';
import { endedMms, initialState, reduceAll, type Finding } from '../../src/model/index.js';
import {
  DECOY,
  EXE_BASE,
  EXE_TEXT,
  LDSO,
  LDSO_TEXT,
  LIBC,
  LIBC_TEXT,
  MAP_PRIVATE,
  PROT_R,
  PROT_X,
  SH,
  SLEEP,
  ev,
  file,
  maps,
  ordinaryLaunch,
  ordinaryMaps,
} from './fixtures/model-events.fixture.js';

const A = '0xffff888100000a00';
const B = '0xffff888100000b00';
const run = (events: Parameters<typeof reduceAll>[1]) => reduceAll(initialState(), events);
const classes = (fs: readonly Finding[]) => fs.map((f) => f.class);
const mismatches = (fs: readonly Finding[]) => fs.filter((f) => f.kind === 'mismatch');

describe('no findings for ordinary processes', () => {
  it('dynamically linked program (top-down layout), with and without a snapshot', () => {
    expect(run(ordinaryLaunch(10, 100, A)).findings).toEqual([]);
    expect(run(ordinaryLaunch(10, 100, A).slice(0, 3)).findings).toEqual([]);
  });

  it('legacy bottom-up layout: ld.so and libc below the PIE executable are not decoys', () => {
    const ld = [0x2aaaaaab0000, 0x2aaaaaad6000] as const;
    const libc = [0x2aaaaacd0000, 0x2aaaaae25000] as const;
    const s = run([
      ev.exec(1, 100, A, SLEEP),
      ev.mmap(2, 100, A, libc[0], libc[1] - libc[0], LIBC),
      ev.snapshot(3, 100, 'exec', SLEEP, [
        maps(LDSO, ld[0], ld[1]),
        maps(LIBC, libc[0], libc[1]),
        maps(SLEEP, EXE_BASE, EXE_TEXT[0], 'r--p'),
        maps(SLEEP, EXE_TEXT[0], EXE_TEXT[1]),
      ]),
    ]);
    expect(s.findings).toEqual([]);
  });

  it('#! script: exe is the interpreter, both answers agree', () => {
    const s = run([ev.execBegin(1, 100, null, '/tmp/x.sh', '/bin/sh'), ev.exec(2, 100, A, SH), ev.snapshot(3, 100, 'exec', SH, ordinaryMaps(SH))]);
    expect(s.findings).toEqual([]);
  });

  it('a program that exits before any snapshot gets no layout verdict', () => {
    const s = run([ev.exec(1, 100, A, SLEEP), ev.mmap(2, 100, A, 0x10000, 0x1000, DECOY), ev.mmExit(3, 100, A), ev.exit(4, 100)]);
    expect(s.findings).toEqual([]);
  });
});

describe('loader-exec', () => {
  const LD_EXEC = { startCode: LDSO_TEXT[0], endCode: LDSO_TEXT[1] };
  const sleepText = [0x7ffff7fa0000, 0x7ffff7fa4000] as const;
  it('ld.so /bin/sleep: loader-exec with the program, and not decoy even though libc is lowest', () => {
    const s = run([
      ev.exec(1, 100, A, LDSO, LD_EXEC),
      ev.mmap(2, 100, A, sleepText[0], sleepText[1] - sleepText[0], SLEEP),
      ev.mmap(3, 100, A, LIBC_TEXT[0], LIBC_TEXT[1] - LIBC_TEXT[0], LIBC),
      ev.snapshot(4, 100, 'exec', LDSO, [maps(LIBC, ...LIBC_TEXT), maps(SLEEP, ...sleepText), maps(LDSO, ...LDSO_TEXT)]),
    ]);
    expect(classes(s.findings)).toEqual(['loader-exec']);
    const f = s.findings[0]!;
    expect(f.kind).toBe('mismatch');
    expect(f.exe?.ino).toBe(LDSO.ino);
    expect(f.vmaWalk?.ino).toBe(LIBC.ino);
    expect(f.legacyWalk?.ino).toBe(LDSO.ino);
    expect(f.related?.find((r) => r.role === 'loaded-program')?.file.ino).toBe(SLEEP.ino);
  });

  it('recognised from the snapshot alone (process predates the trace)', () => {
    const s = run([ev.snapshot(4, 100, 'startup', LDSO, [maps(LIBC, ...LIBC_TEXT), maps(SLEEP, ...sleepText), maps(LDSO, ...LDSO_TEXT)])]);
    expect(classes(s.findings)).toEqual(['loader-exec']);
    expect(s.findings[0]!.related?.[0]?.file.ino).toBe(SLEEP.ino);
  });

  it("recognised by structure: a file proved to be an interpreter, exec'd under another name", () => {
    const LD_COPY = file(0x801, LDSO.ino, '/opt/x/myloader'); // same (dev, ino), other name
    const s = run([...ordinaryLaunch(1, 100, A), ev.exec(20, 200, B, LD_COPY, LD_EXEC)]);
    expect(classes(s.findings)).toEqual(['loader-exec']);
    expect(s.findings[0]!.pid).toBe(200);
  });
});

describe('decoy-mapping', () => {
  it('a file mapped r-x below the exe and the loader is a decoy', () => {
    const s = run([
      ...ordinaryLaunch(10, 100, A),
      ev.mmap(20, 100, A, 0x10000, 0x2000, DECOY),
      ev.snapshot(21, 100, 'exe_read', SLEEP, [maps(DECOY, 0x10000, 0x12000), ...ordinaryMaps(SLEEP)]),
    ]);
    expect(classes(s.findings)).toEqual(['decoy-mapping']);
    const f = s.findings[0]!;
    expect(f.vmaWalk).toMatchObject({ ino: DECOY.ino, address: 0x10000 });
    expect(f.exe?.ino).toBe(SLEEP.ino);
    expect(f.legacyWalk?.ino).toBe(SLEEP.ino);
    expect(f.evidence.map((e) => e.kind)).toEqual(['exec', 'mmap', 'proc_snapshot']);
  });

  it('needs a snapshot: mmap events alone do not show where the loader is', () => {
    const s = run([ev.exec(1, 100, A, SLEEP), ev.mmap(2, 100, A, 0x10000, 0x2000, DECOY)]);
    expect(s.findings).toEqual([]);
  });

  it('a decoy below the exe but above the loader (bottom-up) is a library-like mapping: no verdict', () => {
    const s = run([
      ev.exec(1, 100, A, SLEEP),
      ev.snapshot(3, 100, 'exec', SLEEP, [maps(LDSO, 0x2aaaaaab0000, 0x2aaaaaad6000), maps(DECOY, 0x2aaaab000000, 0x2aaaab002000), maps(SLEEP, ...EXE_TEXT)]),
    ]);
    expect(s.findings).toEqual([]);
  });
});

describe('text-unmapped', () => {
  it('text copied to anonymous memory and mremapped over the original (events only)', () => {
    const anon = 0x7ffff0000000;
    const len = EXE_TEXT[1] - EXE_TEXT[0];
    const s = run([
      ...ordinaryLaunch(10, 100, A).slice(0, 3),
      ev.mmap(20, 100, A, anon, len, null, { prot: 3, flags: 0x22 }),
      ev.mremap(21, 100, A, anon, len, len, EXE_TEXT[0]),
    ]);
    expect(classes(s.findings)).toEqual(['text-unmapped']);
    expect(s.findings[0]!.evidence.map((e) => e.kind)).toEqual(['exec', 'mremap']);
    expect(s.findings[0]!.vmaWalk?.ino).toBe(LIBC.ino);
  });

  it('snapshot after the change: legacy walk is the remaining r--p mapping', () => {
    const s = run([
      ...ordinaryLaunch(10, 100, A),
      ev.munmap(20, 100, A, EXE_TEXT[0], EXE_TEXT[1] - EXE_TEXT[0]),
      ev.snapshot(
        21,
        100,
        'vma_change',
        SLEEP,
        ordinaryMaps(SLEEP).filter((m) => m.perms !== 'r-xp' || m.ino !== SLEEP.ino),
      ),
    ]);
    expect(classes(s.findings)).toEqual(['text-unmapped']);
    expect(s.findings[0]!.legacyWalk).toMatchObject({ ino: SLEEP.ino, perms: 'r--p', address: EXE_BASE });
  });

  it('mprotect dropping PROT_EXEC on the text counts; a failed munmap does not', () => {
    const s1 = run([...ordinaryLaunch(10, 100, A), ev.munmap(20, 100, A, EXE_TEXT[0], 0x1000, -22)]);
    expect(s1.findings).toEqual([]);
    const s2 = run([...ordinaryLaunch(10, 100, A).slice(0, 3), ev.mprotect(20, 100, A, EXE_TEXT[0], EXE_TEXT[1] - EXE_TEXT[0], PROT_R)]);
    expect(classes(s2.findings)).toEqual(['text-unmapped']);
  });
});

describe('text-unmapped: exiting processes', () => {
  it('a snapshot of an exiting process (exe link readable, stat failed, no maps) proves nothing', () => {
    const exiting = { ...ev.snapshot(30, 100, 'exe_read', null, []), exeLink: SLEEP.path };
    const s = run([...ordinaryLaunch(10, 100, A), exiting]);
    expect(s.findings).toEqual([]);
  });
});

describe('stacked-fs', () => {
  const OUTER = file(0x2b, 50, '/mnt/outer/bin/prog');
  const INNER = file(0x2a, 77, '/lowbin');
  it('maps names the inner path on the inner device: stacked-fs, not text-unmapped', () => {
    const s = run([
      ev.exec(1, 100, A, OUTER),
      ev.snapshot(2, 100, 'exec', OUTER, [
        maps(INNER, EXE_BASE, EXE_TEXT[0], 'r--p'),
        maps(INNER, ...EXE_TEXT),
        maps(LIBC, ...LIBC_TEXT),
        maps(LDSO, ...LDSO_TEXT),
      ]),
    ]);
    expect(classes(s.findings)).toEqual(['stacked-fs']);
    const f = s.findings[0]!;
    expect(f.exe).toMatchObject({ dev: 0x2b, path: '/mnt/outer/bin/prog' });
    expect(f.vmaWalk).toMatchObject({ dev: 0x2a, path: '/lowbin' });
    expect(f.legacyWalk).toBeNull();
  });
});

describe('exe-replaced and notes', () => {
  it('prctl PR_SET_MM_MAP after unmapping the old exe: exe-replaced with old and new', () => {
    const NEW = file(0x801, 4001, '/usr/bin/restored');
    const s = run([...ordinaryLaunch(10, 100, A).slice(0, 3), ev.munmap(20, 100, A, EXE_TEXT[0], EXE_TEXT[1] - EXE_TEXT[0]), ev.prctl(21, 100, A, SLEEP, NEW)]);
    expect(classes(s.findings)).toEqual(['text-unmapped', 'exe-replaced']);
    const f = s.findings[1]!;
    expect(f.exe?.ino).toBe(NEW.ino);
    expect(f.related?.find((r) => r.role === 'old-exe')?.file.ino).toBe(SLEEP.ino);
    expect(f.related?.find((r) => r.role === 'new-exe')?.file.ino).toBe(NEW.ino);
  });

  it('a failed prctl (EBUSY) changes nothing', () => {
    const s = run([...ordinaryLaunch(10, 100, A), ev.prctl(21, 100, A, SLEEP, SLEEP, -16)]);
    expect(s.findings).toEqual([]);
  });

  it('memfd exec is a note, not also exe-deleted', () => {
    const MEMFD = { ...file(1, 9, '/memfd:payload'), name: 'memfd:payload' };
    const s = run([ev.exec(1, 100, A, MEMFD), ev.snapshot(2, 100, 'exec', MEMFD, ordinaryMaps(MEMFD), { exeLink: '/memfd:payload (deleted)' })]);
    expect(classes(s.findings)).toEqual(['exe-memfd']);
    expect(mismatches(s.findings)).toEqual([]);
  });

  it('deleted executable is a note, seen in the exe link', () => {
    const s = run([...ordinaryLaunch(10, 100, A), ev.snapshot(30, 100, 'exe_read', SLEEP, ordinaryMaps(SLEEP), { exeLink: '/usr/bin/sleep (deleted)' })]);
    expect(classes(s.findings)).toEqual(['exe-deleted']);
    expect(s.findings[0]!.kind).toBe('note');
  });
});

describe('gaps', () => {
  it('a finding whose mm lived across a gap is uncertain; one after a fresh exec is not', () => {
    const decoy = (t: number, pid: number, mm: string) => [
      ev.mmap(t, pid, mm, 0x10000, 0x2000, DECOY),
      ev.snapshot(t + 1, pid, 'exe_read', SLEEP, [maps(DECOY, 0x10000, 0x12000), ...ordinaryMaps(SLEEP)]),
    ];
    const s = run([...ordinaryLaunch(10, 100, A), ev.gap(15), ...decoy(20, 100, A), ...ordinaryLaunch(30, 200, B), ...decoy(40, 200, B)]);
    expect(s.findings.map((f) => [f.pid, f.uncertain])).toEqual([
      [100, true],
      [200, false],
    ]);
  });

  it('a gap after the verdict but before teardown marks the finding uncertain at teardown', () => {
    const s = run([...ordinaryLaunch(10, 100, A), ev.munmap(20, 100, A, EXE_TEXT[0], 0x4000), ev.gap(25), ev.mmExit(30, 100, A)]);
    expect(s.findings).toHaveLength(1);
    expect(s.findings[0]!.uncertain).toBe(true);
    expect(endedMms(s)[0]!.gaps).toBe(1);
  });
});

describe('mapping bookkeeping', () => {
  it('a non-exec MAP_FIXED over the text replaces it; PROT_EXEC mmap of another file elsewhere does not', () => {
    const s = run([
      ...ordinaryLaunch(10, 100, A).slice(0, 3),
      ev.mmap(20, 100, A, 0x7f0000000000, 0x1000, DECOY, { flags: MAP_PRIVATE, prot: PROT_R | PROT_X }),
    ]);
    expect(s.findings).toEqual([]);
  });
});
