// The scenario lab reproduces each kernel-facts row on this host: checked against /proc directly,
// with no tracer involved, so a collector failure can never be blamed on the lab.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { skipLive } from '../support/live-gate.js';
import { buildLab } from '../lab/build.js';
import { firstFileBackedExec, legacyWalk, mappingsOf, processState, readComm, readExe, readMaps, type ProcMapping } from '../lab/procfs.js';
import { scenarioById, stopAllScenarios, type RunningScenario, type ScenarioId } from '../lab/scenarios.js';

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

  it('stop() ends the process and removes its temp directory; the overlay mounts never reach our namespace', async () => {
    const run = await start('nested-overlay');
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(run.workDir!);
    await run.stop();
    current = null;
    expect(processState(run.pid)).toBeNull();
    expect(existsSync(run.workDir!)).toBe(false);
  });
});
