// The scenario lab reproduces each kernel-facts row on this host: checked against /proc directly,
// with no tracer involved, so a collector failure can never be blamed on the lab.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { skipLive } from '../support/live-gate.js';
import { buildLab } from '../lab/build.js';
import { firstFileBackedExec, legacyWalk, mappingsOf, processState, readComm, readExe, readMaps, type ProcMapping } from '../lab/procfs.js';
import { scenarioById, stopAllScenarios, type RunningScenario, type ScenarioId } from '../lab/scenarios.js';
import { elfKindOfFile } from '../../src/trace/elf-kind.js';
import { exeKernelId } from '../../src/trace/kernel-file-id.js';
import { readAuxvBase } from '../../src/trace/proc-snapshot.js';

const libc = () => statSync(realpathSync('/lib/x86_64-linux-gnu/libc.so.6'));
const ldso = () => statSync('/lib64/ld-linux-x86-64.so.2');

function describeMaps(maps: ProcMapping[]): string {
  return maps.map((m) => `${m.start.toString(16)}-${m.end.toString(16)} ${m.perms} ${m.dev}:${m.ino} ${m.path}`).join('\n');
}

describe.skipIf(skipLive())('scenario lab reproduces kernel-facts on this host', () => {
  let current: RunningScenario | null = null;

  beforeAll(() => {
    buildLab();
  });
  afterEach(async () => {
    await current?.stop();
    current = null;
  });
  afterAll(async () => {
    await stopAllScenarios();
  });

  async function start(id: ScenarioId): Promise<RunningScenario> {
    current = await scenarioById(id).start();
    return current;
  }

  it('ldso-launch: exe is ld.so, the VMA walk names libc, ld.so still mapped (legacy walk)', async () => {
    const run = await start('ldso-launch');
    const exe = readExe(run.pid);
    expect(exe.link.toString()).toBe(realpathSync('/lib64/ld-linux-x86-64.so.2'));
    expect([exe.dev, exe.ino]).toEqual([ldso().dev, ldso().ino]);
    const maps = readMaps(run.pid);
    const first = firstFileBackedExec(maps);
    expect([first?.dev, first?.ino], describeMaps(maps)).toEqual([libc().dev, libc().ino]);
    expect(legacyWalk(maps, exe.dev, exe.ino)).not.toBeNull();
    // The program ld.so loaded is mapped executable, but it is neither answer.
    const loaded = mappingsOf(maps, run.loaded!.dev, run.loaded!.ino);
    expect(loaded.some((m) => m.perms[2] === 'x')).toBe(true);
  });

  it('decoy: the first file-backed executable mapping is the decoy, below the program text', async () => {
    const run = await start('decoy');
    const exe = readExe(run.pid);
    expect([exe.dev, exe.ino]).toEqual([run.exe.dev, run.exe.ino]);
    const maps = readMaps(run.pid);
    const first = firstFileBackedExec(maps)!;
    expect([first.dev, first.ino], describeMaps(maps)).toEqual([run.vmaWalk!.dev, run.vmaWalk!.ino]);
    expect(first.start).toBe(0x10000);
    expect(first.perms).toBe('r-xp');
    const ownText = mappingsOf(maps, exe.dev, exe.ino).find((m) => m.perms[2] === 'x');
    expect(ownText).toBeDefined();
    expect(ownText!.start).toBeGreaterThan(first.start);
  });

  it('text-unmapped: no executable mapping of the exe remains, the copy keeps running', async () => {
    const run = await start('text-unmapped');
    expect(run.facts.get('text_remaining')).toEqual(['0']);
    expect(run.facts.get('spin')).toEqual(['499500']);
    const exe = readExe(run.pid);
    expect([exe.dev, exe.ino]).toEqual([run.exe.dev, run.exe.ino]);
    // Still alive and not a zombie a moment later: the anonymous copy really executes.
    await new Promise((r) => setTimeout(r, 300));
    expect(processState(run.pid)).toMatch(/^[RS]$/);
    const maps = readMaps(run.pid);
    const own = mappingsOf(maps, exe.dev, exe.ino);
    expect(
      own.filter((m) => m.perms[2] === 'x'),
      describeMaps(maps),
    ).toEqual([]);
    // Where the text was, an anonymous r-x mapping now sits.
    const [lo, hi] = run.facts
      .get('text_range')![0]!
      .split('-')
      .map((h) => parseInt(h, 16));
    const anon = maps.find((m) => m.start === lo && m.end === hi);
    expect(anon?.ino).toBe(0);
    expect(anon?.perms).toBe('r-xp');
    expect(firstFileBackedExec(maps)?.ino).toBe(libc().ino);
    // The legacy walk still finds the program's read-only segments.
    expect(legacyWalk(maps, exe.dev, exe.ino)?.perms).toBe('r--p');
  });

  it('nested-overlay: exe is the outer path on the outer device; maps names /lowbin on the inner device', async () => {
    const run = await start('nested-overlay');
    const [lowerDev, lowerIno] = run.facts.get('stat_lower')![0]!.split(' ').map(Number);
    const [innerDev, innerIno] = run.facts.get('stat_inner')![0]!.split(' ').map(Number);
    const [outerDev, outerIno] = run.facts.get('stat_outer')![0]!.split(' ').map(Number);
    // Three layers, three devices (inode numbers may or may not be shared; not asserted).
    expect(new Set([lowerDev, innerDev, outerDev]).size).toBe(3);
    const exe = readExe(run.pid);
    expect(exe.link.toString()).toBe(run.facts.get('outer_path')![0]);
    expect([exe.dev, exe.ino]).toEqual([outerDev, outerIno]);
    const maps = readMaps(run.pid);
    const first = firstFileBackedExec(maps)!;
    expect([first.dev, first.ino, first.path], describeMaps(maps)).toEqual([innerDev, innerIno, '/lowbin']);
    // Nothing is mapped through the outer layer: the legacy walk (by exe_file identity) finds nothing.
    expect(legacyWalk(maps, exe.dev, exe.ino)).toBeNull();
    expect(mappingsOf(maps, lowerDev!, lowerIno!)).toEqual([]);
    // The outer overlay's superblock device (its mount's, as BPF reads it) is not the file's st_dev:
    // its layers sit on different filesystems, so a file reports a per-layer pseudo device.
    const outerSb = Number(run.facts.get('sbdev_outer')![0]);
    const mountinfo = readFileSync(`/proc/${run.pid}/mountinfo`, 'utf8')
      .split('\n')
      .find((l) => l.includes(`${run.workDir}/outer `));
    const [maj, min] = mountinfo!.split(' ')[2]!.split(':').map(Number);
    expect(outerSb).toBe(maj! * 256 + min!);
    expect(outerSb).not.toBe(outerDev);
    expect(run.exe.sbDev).toBe(outerSb);
    // The inner overlay's layers share one filesystem: its files report the superblock's device.
    expect(Number(run.facts.get('sbdev_inner')![0])).toBe(innerDev);
  });

  it('exe-replaced: PR_SET_MM_MAP gives EBUSY while mapped, then replaces exe_file without exec', async () => {
    const run = await start('exe-replaced');
    expect(run.facts.get('prctl_mapped')![0]).toMatch(/^ret=-1 errno=16 /);
    expect(run.facts.get('exe_ranges_remaining')).toEqual(['0']);
    expect(run.facts.get('prctl_unmapped')![0]).toMatch(/^ret=0 /);
    const exe = readExe(run.pid);
    expect(exe.link.toString()).toBe(run.exe.path);
    expect([exe.dev, exe.ino]).toEqual([run.exe.dev, run.exe.ino]);
    expect([exe.dev, exe.ino]).not.toEqual([run.oldExe!.dev, run.oldExe!.ino]);
    const maps = readMaps(run.pid);
    expect(mappingsOf(maps, run.oldExe!.dev, run.oldExe!.ino), describeMaps(maps)).toEqual([]);
    expect(legacyWalk(maps, exe.dev, exe.ino)).toBeNull();
    expect(firstFileBackedExec(maps)?.ino).toBe(libc().ino);
    // Same process all along: comm is still the old program's name.
    expect(readComm(run.pid).toString()).toBe('exereplace\n');
  });

  it('memfd-exec: exe is /memfd:NAME (deleted) on device 0:1, and the VMA walk agrees', async () => {
    const run = await start('memfd-exec');
    const exe = readExe(run.pid);
    expect(exe.link.toString()).toBe('/memfd:exetrace-lab (deleted)');
    expect(exe.dev).toBe(1);
    expect([exe.dev, exe.ino]).toEqual([run.exe.dev, run.exe.ino]);
    const maps = readMaps(run.pid);
    const first = firstFileBackedExec(maps)!;
    expect([first.dev, first.ino], describeMaps(maps)).toEqual([exe.dev, exe.ino]);
    expect(first.path).toBe('/memfd:exetrace-lab (deleted)');
  });

  it('deleted-exe: exe is PATH (deleted), same identity as before, and the VMA walk agrees', async () => {
    const run = await start('deleted-exe');
    expect(existsSync(run.exe.path)).toBe(false);
    const exe = readExe(run.pid);
    expect(exe.link.toString()).toBe(`${run.exe.path} (deleted)`);
    expect([exe.dev, exe.ino]).toEqual([run.exe.dev, run.exe.ino]);
    const maps = readMaps(run.pid);
    const first = firstFileBackedExec(maps)!;
    expect([first.dev, first.ino], describeMaps(maps)).toEqual([exe.dev, exe.ino]);
  });

  it('hostile-name: the exe link and comm carry the raw control bytes', async () => {
    const run = await start('hostile-name');
    const exe = readExe(run.pid);
    expect(exe.link.equals(run.expectedExeLink)).toBe(true);
    expect(exe.link.includes(0xff)).toBe(true);
    expect(exe.link.includes(0x1b)).toBe(true);
    expect(exe.link.includes(0x0a)).toBe(true);
    expect([exe.dev, exe.ino]).toEqual([run.exe.dev, run.exe.ino]);
    expect(readComm(run.pid).equals(Buffer.concat([run.comm!, Buffer.from('\n')]))).toBe(true);
    const first = firstFileBackedExec(readMaps(run.pid))!;
    expect([first.dev, first.ino]).toEqual([exe.dev, exe.ino]);
  });

  it('ldso-renamed-copy: exe is the copy, the kernel mapped no interpreter (AT_BASE 0), and the sleeper runs', async () => {
    const run = await start('ldso-renamed-copy');
    const exe = readExe(run.pid);
    expect([exe.dev, exe.ino]).toEqual([run.exe.dev, run.exe.ino]);
    expect(readAuxvBase(`/proc/${run.pid}/auxv`)).toBe(0);
    expect(elfKindOfFile(`/proc/${run.pid}/exe`)).toBe('shared-object');
    expect(mappingsOf(readMaps(run.pid), run.loaded!.dev, run.loaded!.ino).some((m) => m.perms[2] === 'x')).toBe(true);
  });

  it('named-like-loader: a program named like ld.so has an interpreter of its own', async () => {
    const run = await start('named-like-loader');
    expect(readExe(run.pid).link.toString()).toMatch(/\/ld-linux-x86-64\.so\.2$/);
    expect(readAuxvBase(`/proc/${run.pid}/auxv`)).toBeGreaterThan(0);
    expect(elfKindOfFile(`/proc/${run.pid}/exe`)).toBe('dynamic');
  });

  it('memfd-self-clone: exe is /memfd:runc_cloned:/proc/self/exe (deleted) on device 0:1, on a mount in no mountinfo', async () => {
    const run = await start('memfd-self-clone');
    const exe = readExe(run.pid);
    expect(exe.link.toString()).toBe('/memfd:runc_cloned:/proc/self/exe (deleted)');
    expect([exe.dev, exe.ino]).toEqual([run.exe.dev, run.exe.ino]);
    expect(exe.dev).toBe(1);
    expect(exeKernelId(run.pid).mountListed).toBe(false);
  });

  it('named-like-memfd: a tmpfs file named memfd:payload sits on a listed mount', async () => {
    const run = await start('named-like-memfd');
    expect(readExe(run.pid).link.toString()).toBe(run.exe.path);
    expect(exeKernelId(run.pid).mountListed).toBe(true);
  });

  it('named-like-deleted: the link ends in " (deleted)" but the file is linked', async () => {
    const run = await start('named-like-deleted');
    expect(readExe(run.pid).link.toString()).toMatch(/ \(deleted\)$/);
    expect(exeKernelId(run.pid).nlink).toBe(1);
  });

  it('hashbang-script: exe is the interpreter; argv[0] is the interpreter, argv[1] the script', async () => {
    const run = await start('hashbang-script');
    const exe = readExe(run.pid);
    expect([exe.dev, exe.ino]).toEqual([run.exe.dev, run.exe.ino]);
    const argv = readFileSync(`/proc/${run.pid}/cmdline`, 'latin1').split('\0');
    expect(argv.slice(0, 2)).toEqual(['/bin/sh', run.request!.filename]);
  });

  for (const id of ['execveat-empty-path', 'fexecve'] as const) {
    it(`${id}: exe is the sleeper, argv[0] the one asked for, comm the file's name (6.14+)`, async () => {
      const run = await start(id);
      const exe = readExe(run.pid);
      expect([exe.dev, exe.ino]).toEqual([run.exe.dev, run.exe.ino]);
      expect(readFileSync(`/proc/${run.pid}/cmdline`, 'latin1').split('\0')[0]).toBe(run.request!.argv0);
      expect(readComm(run.pid).toString()).toBe('sleeper\n');
    });
  }

  it('upper-layer and lower-layer: the dropped binary is in the upper dir, the shipped one is not', async () => {
    const up = await start('upper-layer');
    expect(up.facts.get('in_upper')?.[0]?.trim()).toBe('dropped');
    expect(readExe(up.pid).link.toString()).toBe(up.exe.path);
    await up.stop();
    const low = await start('lower-layer');
    expect(low.facts.get('in_upper')?.[0]?.trim() ?? '').toBe('');
    expect(readExe(low.pid).link.toString()).toBe(low.exe.path);
  });

  it('stop() ends the process and removes its temp directory; the overlay mounts never reach our namespace', async () => {
    const run = await start('nested-overlay');
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(run.workDir!);
    await run.stop();
    current = null;
    expect(processState(run.pid)).toBeNull();
    expect(existsSync(run.workDir!)).toBe(false);
  });
});
