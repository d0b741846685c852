// Each finding class: a positive stream and the ordinary look-alike that must stay silent.
import { describe, expect, it } from 'vitest';
import { endedMms, initialState, parseExceptions, reduceAll, type Finding } from '../../src/model/index.js';
import { OVERLAYFS_MAGIC, TMPFS_MAGIC, type FileRef } from '../../src/trace/events.js';
import {
  DECOY,
  EXT4_MAGIC,
  EXE_BASE,
  EXE_TEXT,
  LDSO,
  LDSO_TEXT,
  LIBC,
  LIBC_TEXT,
  MAP_PRIVATE,
  PROT_R,
  PROT_X,
  ROOT_DEV,
  SH,
  SLEEP,
  ev,
  file,
  maps,
  ordinaryLaunch,
  ordinaryMaps,
} from './fixtures/model-events.fixture.js';

const LOADER_FACTS = { interpBase: 0, exeElf: 'shared-object' } as const;
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
      ev.snapshot(
        3,
        100,
        'exec',
        SLEEP,
        [maps(LDSO, ld[0], ld[1]), maps(LIBC, libc[0], libc[1]), maps(SLEEP, EXE_BASE, EXE_TEXT[0], 'r--p'), maps(SLEEP, EXE_TEXT[0], EXE_TEXT[1])],
        { interpBase: ld[0], exeElf: 'dynamic' },
      ),
    ]);
    expect(s.findings).toEqual([]);
  });

  it('#! script: exe is the interpreter, both answers agree', () => {
    const s = run([ev.execBegin(1, 100, null, '/tmp/x.sh', '/bin/sh'), ev.exec(2, 100, A, SH), ev.snapshot(3, 100, 'exec', SH, ordinaryMaps(SH))]);
    expect(s.findings).toEqual([]);
  });

  it('a program named like a loader, a memfd or a deleted file is an ordinary program', () => {
    for (const path of [
      '/tmp/x/ld-linux-x86-64.so.2',
      '/tmp/x/ld.so.1',
      '/memfd:payload',
      '/tmp/x/memfd:payload',
      '/tmp/x/prog (deleted)',
      '/tmp/x/libfoo.so.1',
    ]) {
      const LOOKALIKE = file(ROOT_DEV, 5001, path);
      const s = run([
        ev.execBegin(1, 100, null, path),
        { ...ev.exec(2, 100, A, LOOKALIKE), exeMagic: EXT4_MAGIC, exeInternalMount: false, exeOverlayUpper: false },
        ev.snapshot(3, 100, 'exec', LOOKALIKE, ordinaryMaps(LOOKALIKE), { exeLink: path }),
      ]);
      expect(s.findings, path).toEqual([]);
    }
  });

  it('a static-pie (ET_DYN without PT_INTERP, but DF_1_PIE) is not a loader', () => {
    const STATIC = file(ROOT_DEV, 5002, '/usr/local/bin/tool');
    const own = [maps(STATIC, 0x7ffff7f00000, 0x7ffff7f01000, 'r--p'), maps(STATIC, 0x7ffff7f01000, 0x7ffff7f80000, 'r-xp', 0x1000)];
    const s = run([
      ev.exec(1, 100, A, STATIC, { startCode: 0x7ffff7f01000, endCode: 0x7ffff7f80000 }),
      ev.snapshot(2, 100, 'exec', STATIC, own, { interpBase: 0, exeElf: 'static-pie' }),
    ]);
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
      ev.snapshot(4, 100, 'exec', LDSO, [maps(LIBC, ...LIBC_TEXT), maps(SLEEP, ...sleepText), maps(LDSO, ...LDSO_TEXT)], LOADER_FACTS),
    ]);
    expect(classes(s.findings)).toEqual(['loader-exec']);
    const f = s.findings[0]!;
    expect(f.kind).toBe('mismatch');
    expect(f.exe?.ino).toBe(LDSO.ino);
    expect(f.vmaWalk?.ino).toBe(LIBC.ino);
    expect(f.legacyWalk?.ino).toBe(LDSO.ino);
    expect(f.related?.find((r) => r.role === 'loaded-program')?.file.ino).toBe(SLEEP.ino);
  });

  it('recognised from the snapshot alone (process predates the trace); the program is then not known', () => {
    const s = run([ev.snapshot(4, 100, 'startup', LDSO, [maps(LIBC, ...LIBC_TEXT), maps(SLEEP, ...sleepText), maps(LDSO, ...LDSO_TEXT)], LOADER_FACTS)]);
    expect(classes(s.findings)).toEqual(['loader-exec']);
    // Without mmap events nothing but names would say which mapping is the program.
    expect(s.findings[0]!.related).toBeUndefined();
    expect(s.findings[0]!.explanation).toContain('not known from the trace');
  });

  it('a renamed copy of ld.so (another inode, an ordinary name) is still a loader: its ELF structure says so', () => {
    const COPY = file(ROOT_DEV, 6001, '/tmp/x/helper-tool');
    const s = run([
      ...ordinaryLaunch(1, 50, B),
      ev.exec(10, 100, A, COPY, LD_EXEC),
      ev.mmap(11, 100, A, sleepText[0], sleepText[1] - sleepText[0], SLEEP),
      ev.mmap(12, 100, A, LIBC_TEXT[0], LIBC_TEXT[1] - LIBC_TEXT[0], LIBC),
      ev.snapshot(13, 100, 'exec', COPY, [maps(LIBC, ...LIBC_TEXT), maps(SLEEP, ...sleepText), maps(COPY, ...LDSO_TEXT)], LOADER_FACTS),
    ]);
    expect(classes(s.findings)).toEqual(['loader-exec']);
    expect(s.findings[0]!.pid).toBe(100);
    expect(s.findings[0]!.related?.find((r) => r.role === 'loaded-program')?.file.ino).toBe(SLEEP.ino);
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
      ev.snapshot(3, 100, 'exec', SLEEP, [maps(LDSO, 0x2aaaaaab0000, 0x2aaaaaad6000), maps(DECOY, 0x2aaaab000000, 0x2aaaab002000), maps(SLEEP, ...EXE_TEXT)], {
        interpBase: 0x2aaaaaab0000,
      }),
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

  it('a snapshot taken between exec_begin and exec (the new image half mapped) gives no verdict', () => {
    // Seen in a 6.12 guest: the exec snapshot of the previous image fired while the process was
    // exec'ing again, with only the new exe's first (r--p) segment mapped.
    const s = run([
      ...ordinaryLaunch(10, 100, A),
      ev.execBegin(20, 100, A, SLEEP.path!),
      ev.snapshot(21, 100, 'exec', SLEEP, [maps(SLEEP, EXE_BASE, EXE_TEXT[0], 'r--p')]),
    ]);
    expect(s.findings).toEqual([]);
    expect(s.counters.unattributedSnapshots).toBe(1);
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

describe('exceptions', () => {
  const rules = parseExceptions(
    JSON.stringify({
      exceptions: [
        {
          name: 'runc-clone',
          classes: ['exe-memfd'],
          fields: ['exe.path', 'prev.exe.path'],
          comps: ['startswith', 'endswith'],
          values: [['/memfd:runc_cloned:', '/runc']],
        },
      ],
    }),
    'test',
  );
  const CLONE = { ...file(1, 20, '/memfd:runc_cloned:/proc/self/exe'), name: 'memfd:runc_cloned:/proc/self/exe' };
  const memfdExec = (t: number, pid: number, mm: string, prev: FileRef) => [
    ev.snapshot(t, pid, 'startup', prev, ordinaryMaps(prev)),
    ev.execBegin(t + 1, pid, null, '/proc/self/fd/3'),
    { ...ev.exec(t + 2, pid, mm, CLONE), exeMagic: TMPFS_MAGIC, exeInternalMount: true, exeOverlayUpper: false },
  ];
  it('labels a matching finding expected, keeps it, and counts it apart', () => {
    const RUNC = file(ROOT_DEV, 21, '/usr/bin/runc');
    const OTHER = file(ROOT_DEV, 22, '/tmp/dropper');
    const s = reduceAll(initialState({ exceptions: rules }), [...memfdExec(1, 100, A, RUNC), ...memfdExec(10, 200, B, OTHER)]);
    expect(s.findings.map((f) => [f.pid, f.class, f.expected])).toEqual([
      [100, 'exe-memfd', 'runc-clone'],
      [200, 'exe-memfd', null],
    ]);
    expect(s.findingCounts['exe-memfd']).toBe(2);
    expect(s.expectedCounts['exe-memfd']).toBe(1);
  });

  it('a path cut at the probe bound matches nothing (not even !=)', () => {
    const cut = parseExceptions(
      JSON.stringify({ exceptions: [{ name: 'n', classes: ['exe-memfd'], fields: ['exe.path'], comps: ['!='], values: [['/x']] }] }),
      't',
    );
    const CUT = { ...CLONE, pathTruncated: true };
    const s = reduceAll(initialState({ exceptions: cut }), [
      { ...ev.exec(1, 100, A, CUT), exeMagic: TMPFS_MAGIC, exeInternalMount: true, exeOverlayUpper: false },
    ]);
    expect(s.findings.map((f) => f.expected)).toEqual([null]);
  });

  it('a bad exceptions file names the rule and the cause', () => {
    expect(() => parseExceptions('{"exceptions": [{"name": "a", "classes": ["nope"], "fields": ["comm"], "values": [["x"]]}]}', 'f.json')).toThrow(
      /f\.json: exceptions\[0\] \(a\)\.classes: unknown class "nope"/,
    );
    expect(() => parseExceptions('{"exceptions": [{"name": "a", "classes": ["exe-memfd"], "fields": ["comm"], "values": [["x", "y"]]}]}', 'f.json')).toThrow(
      /values\[0\] must be an array of 1 strings/,
    );
    expect(() => parseExceptions('nope', 'f.json')).toThrow(/f\.json: not valid JSON/);
  });
});

describe('stacked-fs', () => {
  const OUTER = file(0x2b, 50, '/mnt/outer/bin/prog');
  const INNER = file(0x2a, 77, '/lowbin');
  it('stacked-fs is proved by the text range, not by a name: another name on the lower layer still counts', () => {
    const RENAMED = file(0x2a, 77, '/something-else');
    const s = run([
      ev.exec(1, 100, A, OUTER),
      ev.snapshot(2, 100, 'exec', OUTER, [maps(RENAMED, ...EXE_TEXT), maps(LIBC, ...LIBC_TEXT), maps(LDSO, ...LDSO_TEXT)]),
    ]);
    expect(classes(s.findings)).toEqual(['stacked-fs']);
  });

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

  it('memfd exec is a note, not also exe-deleted: the exe sits on a kernel-internal shmem mount (exec event)', () => {
    const MEMFD = { ...file(1, 9, '/memfd:payload'), name: 'memfd:payload' };
    const s = run([
      { ...ev.exec(1, 100, A, MEMFD), exeMagic: TMPFS_MAGIC, exeInternalMount: true, exeOverlayUpper: false },
      ev.snapshot(2, 100, 'exec', MEMFD, ordinaryMaps(MEMFD), {
        exeLink: '/memfd:payload (deleted)',
        exeNlink: 0,
        exeMountListed: false,
        exeFsMagic: TMPFS_MAGIC,
      }),
    ]);
    expect(classes(s.findings)).toEqual(['exe-memfd']);
    expect(mismatches(s.findings)).toEqual([]);
  });

  it('memfd from a start-up snapshot alone: its mount is in no mountinfo and it is tmpfs', () => {
    const MEMFD = { ...file(1, 9, '/memfd:x'), name: 'memfd:x' };
    const s = run([ev.snapshot(2, 100, 'startup', MEMFD, ordinaryMaps(MEMFD), { exeNlink: 0, exeMountListed: false, exeFsMagic: TMPFS_MAGIC })]);
    expect(classes(s.findings)).toEqual(['exe-memfd']);
  });

  it('a memfd given an ordinary-looking name is still a memfd; a user tmpfs file is not', () => {
    const HIDDEN = file(1, 10, '/usr/bin/sshd');
    const s = run([
      { ...ev.exec(1, 100, A, HIDDEN), exeMagic: TMPFS_MAGIC, exeInternalMount: true, exeOverlayUpper: false },
      { ...ev.exec(2, 200, B, file(0x2c, 11, '/dev/shm/memfd:x')), exeMagic: TMPFS_MAGIC, exeInternalMount: false, exeOverlayUpper: false },
    ]);
    expect(s.findings.map((f) => [f.class, f.pid])).toEqual([['exe-memfd', 100]]);
  });

  it('deleted executable is a note: its link count went to 0 (snapshot at an exe read)', () => {
    const s = run([
      ...ordinaryLaunch(10, 100, A),
      ev.snapshot(30, 100, 'exe_read', SLEEP, ordinaryMaps(SLEEP), { exeLink: '/usr/bin/sleep (deleted)', exeNlink: 0 }),
    ]);
    expect(classes(s.findings)).toEqual(['exe-deleted']);
    expect(s.findings[0]!.kind).toBe('note');
  });

  it('exe-upper-layer: an overlay exe with an upper dentry is a note; one only in a lower layer is not', () => {
    const OV = file(0x30, 12, '/merged/dropped');
    const LOW = file(0x30, 13, '/merged/prog');
    const s = run([
      { ...ev.exec(1, 100, A, OV), exeMagic: OVERLAYFS_MAGIC, exeInternalMount: false, exeOverlayUpper: true },
      { ...ev.exec(2, 200, B, LOW), exeMagic: OVERLAYFS_MAGIC, exeInternalMount: false, exeOverlayUpper: false },
    ]);
    expect(s.findings.map((f) => [f.class, f.kind, f.pid])).toEqual([['exe-upper-layer', 'note', 100]]);
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
