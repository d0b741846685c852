import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readlinkSync, realpathSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { holdsNoImage, makedev, parseMapsLine, selectMaps, snapshotAll, snapshotProcess } from '../../src/trace/proc-snapshot.js';

describe('makedev', () => {
  it('matches glibc encoding', () => {
    expect(makedev(8, 1)).toBe(2049);
    expect(makedev(0, 1)).toBe(1);
    expect(makedev(259, 2)).toBe((259 << 8) | 2);
    expect(makedev(0, 300)).toBe(44 + (256 << 12));
  });
});

describe('parseMapsLine', () => {
  it('parses a plain line', () => {
    expect(parseMapsLine('55d0c9a00000-55d0c9a04000 r-xp 00002000 fd:01 1311 /usr/bin/sleep')).toEqual({
      start: 0x55d0c9a00000,
      end: 0x55d0c9a04000,
      perms: 'r-xp',
      offset: 0x2000,
      dev: makedev(0xfd, 1),
      ino: 1311,
      path: '/usr/bin/sleep',
    });
  });
  it('keeps spaces, " (deleted)" and turns \\012 into a newline', () => {
    const e = parseMapsLine('7f0000000000-7f0000001000 r-xp 00000000 08:01 42                         /tmp/a b\\012c (deleted)');
    expect(e?.path).toBe('/tmp/a b\nc (deleted)');
  });
  it('parses anonymous and pseudo mappings, rejects junk', () => {
    expect(parseMapsLine('7ffd1000-7ffd2000 rw-p 00000000 00:00 0 ')?.path).toBe('');
    expect(parseMapsLine('7ffd1000-7ffd2000 rw-p 00000000 00:00 0                          [stack]')?.path).toBe('[stack]');
    expect(parseMapsLine('7ffd1000-7ffd2000 rw-p 00000000 00:00 0')?.ino).toBe(0);
    expect(parseMapsLine('hello world')).toBeNull();
  });
  it('holdsNoImage: only an exiting or mid-exec process has nothing mapped but its stack', () => {
    const stack = parseMapsLine('7ffd1000-7ffd2000 rw-p 00000000 00:00 0                          [stack]')!;
    const anonText = parseMapsLine('7f0000000000-7f0000001000 r-xp 00000000 00:00 0')!;
    expect(holdsNoImage([])).toBe(true);
    expect(holdsNoImage([stack])).toBe(true);
    // Text copied to anonymous memory and the file unmapped: still an image, still reported.
    expect(holdsNoImage([anonText, stack])).toBe(false);
  });

  it('selectMaps keeps executable file mappings and all of the exe', () => {
    const lines = [
      '1000-2000 r--p 00000000 08:01 7 /bin/x',
      '2000-3000 r-xp 00001000 08:01 7 /bin/x',
      '4000-5000 r-xp 00000000 08:01 9 /lib/libc.so',
      '5000-6000 r--p 00000000 08:01 9 /lib/libc.so',
      '6000-7000 rwxp 00000000 00:00 0 ',
    ].map((l) => parseMapsLine(l)!);
    expect(selectMaps(lines, { dev: 2049, ino: 7 }).map((e) => e.start)).toEqual([0x1000, 0x2000, 0x4000]);
  });
});

describe('snapshotProcess on real processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exetrace-snap-'));
  const children: ChildProcess[] = [];
  afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

  it('matches stat() of our own executable', () => {
    const r = snapshotProcess(process.pid, 'startup');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const st = statSync(process.execPath);
    expect(r.event.exeLink).toBe(readlinkSync('/proc/self/exe'));
    expect([r.event.exeDev, r.event.exeIno]).toEqual([st.dev, st.ino]);
    expect(r.event.pid).toBe(process.pid);
    const own = r.event.maps.filter((m) => m.ino === st.ino);
    expect(own.length).toBeGreaterThan(0);
    expect(own.every((m) => m.dev === st.dev)).toBe(true);
    expect(own.some((m) => m.perms[2] === 'x')).toBe(true);
  });

  it('reads a mapping whose name holds a space and a newline and was deleted', async () => {
    const name = join(realpathSync(dir), 'odd name\nline');
    writeFileSync(name, Buffer.alloc(4096, 0xc3));
    const st = statSync(name);
    const py =
      'import mmap,os,sys,time\nf=os.open(sys.argv[1],os.O_RDONLY)\nm=mmap.mmap(f,4096,prot=mmap.PROT_READ|mmap.PROT_EXEC,flags=mmap.MAP_PRIVATE)\nprint("ok",flush=True)\ntime.sleep(30)';
    const child = spawn('python3', ['-c', py, name], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((res) => child.stdout!.once('data', () => res()));
    unlinkSync(name);
    const r = snapshotProcess(child.pid!, 'exe_read');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const mine = r.event.maps.filter((m) => m.ino === st.ino && m.dev === st.dev);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.path).toBe(`${name} (deleted)`);
    expect(mine[0]!.perms).toBe('r-xp');
  });

  it('reports a vanished process as an error, not a throw', async () => {
    const child = spawn('true');
    await new Promise((res) => child.once('exit', res));
    const r = snapshotProcess(child.pid!, 'exec');
    expect(r).toEqual({ ok: false, pid: child.pid, error: 'ENOENT' });
  });

  it('snapshots every process at startup, kernel threads with an exe error', () => {
    const { events } = snapshotAll();
    expect(events.some((e) => e.pid === process.pid)).toBe(true);
    const kthread = events.find((e) => e.pid === 2);
    expect(kthread?.exeError).toBe('ENOENT');
    expect(snapshotAll({ pid: process.pid, comm: null }).events.map((e) => e.pid)).toEqual([process.pid]);
  });
});

describe('SnapshotScheduler', () => {
  const base = { pid: process.pid, tid: process.pid, comm: 'node', ts: 1 };
  const mm = '0xffff888100000000';

  it('snapshots the target of an exe read, and never for our own reads', async () => {
    const { SnapshotScheduler } = await import('../../src/trace/snapshot-scheduler.js');
    const got: string[] = [];
    const s = new SnapshotScheduler({ emit: (e) => got.push(`${e.reason}:${e.pid}`), selfPid: 999999999 });
    s.observe({
      ...base,
      kind: 'exe_read',
      syscall: 'readlink',
      path: `/proc/${process.pid}/exe`,
      dirName: null,
      targetPid: process.pid,
      ret: 10,
      answer: 'x',
    });
    expect(got).toEqual([`exe_read:${process.pid}`]);
    const self = new SnapshotScheduler({ emit: (e) => got.push(`self:${e.pid}`) });
    self.observe({ ...base, kind: 'exe_read', syscall: 'readlink', path: '/proc/1/exe', dirName: null, targetPid: 1, ret: 10, answer: 'x' });
    expect(got).toHaveLength(1);
  });

  it('reacts to munmap/mremap only inside the executable ranges, and after an exec with a delay', async () => {
    const { SnapshotScheduler } = await import('../../src/trace/snapshot-scheduler.js');
    const got: string[] = [];
    const s = new SnapshotScheduler({ emit: (e) => got.push(e.reason), selfPid: -1, execDelayMs: 30 });
    s.observe({ ...base, kind: 'exec', oldTid: process.pid, ppid: 1, mm, exe: null, startCode: 0x1000, endCode: 0x5000, filename: 'x' });
    expect(got).toEqual([]);
    s.observe({ ...base, kind: 'munmap', mm, addr: 0x9000, len: 0x1000, ret: 0 });
    s.observe({ ...base, kind: 'munmap', mm, addr: 0x4000, len: 0x1000, ret: -22 });
    expect(got).toEqual([]);
    s.observe({ ...base, kind: 'mremap', mm, oldAddr: 0x4000, oldLen: 0x1000, newLen: 0x1000, flags: 3, ret: 0x7000 });
    expect(got).toEqual(['vma_change']);
    await new Promise((r) => setTimeout(r, 80));
    expect(got).toEqual(['vma_change', 'exec']);
    s.stop();
  });

  it('rate-limits and counts what it skipped', async () => {
    const { SnapshotScheduler } = await import('../../src/trace/snapshot-scheduler.js');
    let n = 0;
    const s = new SnapshotScheduler({ emit: () => n++, selfPid: -1, ratePerSec: 0.001, burst: 5 });
    for (let i = 0; i < 50; i++) {
      s.observe({ ...base, kind: 'exe_read', syscall: 'readlink', path: 'p', dirName: null, targetPid: process.pid, ret: 1, answer: null });
    }
    expect(n).toBe(5);
    expect(s.taken).toBe(5);
    expect(s.skipped).toBe(45);
  });
});
