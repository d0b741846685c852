// Reducer lifecycle on synthetic streams: generations, threads, fork/exec, ordering, bounds.
import { describe, expect, it } from 'vitest';
import { endedMms, initialState, liveMms, mmOfPid, reduceAll, type ModelState } from '../../src/model/index.js';
import { pget } from '../../src/model/pmap.js';
import { ev, file, LIBC, ordinaryLaunch, SH, SLEEP } from './fixtures/model-events.fixture.js';

const A = '0xffff888100000a00';
const B = '0xffff888100000b00';
const C = '0xffff888100000c00';
const LS = file(0x801, 1003, '/usr/bin/ls');

const run = (events: Parameters<typeof reduceAll>[1], s: ModelState = initialState()) => reduceAll(s, events);

describe('mm generations', () => {
  it('a reused address starts a new generation that never merges with the old one', () => {
    const s = run([ev.exec(10, 100, A, SLEEP), ev.mmExit(20, 100, A, SLEEP), ev.exit(21, 100), ev.exec(30, 200, A, LS)]);
    const live = liveMms(s);
    expect(live).toHaveLength(1);
    expect(live[0]!.key).toBe(`${A}#2`);
    expect(live[0]!.pids).toEqual([200]);
    expect(live[0]!.exe?.ino).toBe(LS.ino);
    expect(endedMms(s)).toHaveLength(1);
    expect(endedMms(s)[0]!.key).toBe(`${A}#1`);
    expect(endedMms(s)[0]!.pids).toEqual([100]);
    expect(endedMms(s)[0]!.timeline.map((t) => t.cause)).toEqual(['exec', 'teardown']);
  });

  it('a teardown that arrives after the exec reusing its address goes to the old generation', () => {
    // CPU skew: pid 200's exec (ts 30) is delivered before pid 100's exit_mmap (ts 20).
    const s = run([ev.exec(10, 100, A, SLEEP), ev.exec(30, 200, A, LS), ev.mmExit(20, 100, A, SLEEP)]);
    const live = liveMms(s);
    expect(live.map((m) => m.key)).toEqual([`${A}#2`]);
    expect(live[0]!.pids).toEqual([200]);
    expect(endedMms(s).map((m) => m.key)).toEqual([`${A}#1`]);
    expect(s.counters.supersededMms).toBe(1);
    expect(s.counters.lateEvents).toBe(1);
  });

  it('exec ends the old mm through its own mm_exit and moves the pid to the new one', () => {
    const s = run([ev.exec(10, 100, A, SH), ev.execBegin(20, 100, A, '/usr/bin/sleep'), ev.mmExit(21, 100, A, SH), ev.exec(22, 100, B, SLEEP)]);
    expect(mmOfPid(s, 100)?.key).toBe(`${B}#1`);
    expect(mmOfPid(s, 100)?.execFilename).toBe('/usr/bin/sleep');
    expect(endedMms(s).map((m) => m.key)).toEqual([`${A}#1`]);
  });
});

describe('threads, fork, exec', () => {
  it('threads share the mm: no new record, tids accumulate, their mmaps apply to it', () => {
    const s = run([
      ev.exec(10, 100, A, SLEEP),
      ev.fork(11, 100, 100, A, { thread: true, childTid: 101 }),
      ev.attach(12, 100, A, SLEEP, { tid: 101, ppid: 1 }),
      ev.mmap(13, 100, A, 0x7f0000000000, 0x1000, LIBC, { tid: 101 }),
    ]);
    const live = liveMms(s);
    expect(live).toHaveLength(1);
    expect(live[0]!.tids).toEqual([100, 101]);
    expect(live[0]!.mappings.some((m) => m.file.ino === LIBC.ino)).toBe(true);
  });

  it('fork copies exe_file and mappings into the child mm; the child then execs', () => {
    const s = run([
      ...ordinaryLaunch(10, 100, A, SH),
      ev.fork(20, 100, 300, A),
      ev.attach(21, 300, C, SH, { ppid: 100 }),
      ev.execBegin(30, 300, C, '/usr/bin/ls'),
      ev.mmExit(31, 300, C, SH),
      ev.exec(32, 300, B, LS),
    ]);
    expect(mmOfPid(s, 100)?.key).toBe(`${A}#1`);
    expect(mmOfPid(s, 300)?.key).toBe(`${B}#1`);
    const child = endedMms(s).find((m) => m.key === `${C}#1`)!;
    expect(child.timeline.map((t) => t.cause)).toEqual(['fork-inherit', 'teardown']);
    expect(child.exe?.ino).toBe(SH.ino);
    expect(s.pendingFork.size).toBe(0);
    expect(s.findings).toEqual([]);
  });

  it('mm_attach arriving before its fork event makes one child record', () => {
    const s = run([ev.exec(10, 100, A, SH), ev.attach(21, 300, C, null, { ppid: 100 }), ev.fork(20, 100, 300, A)]);
    const child = mmOfPid(s, 300)!;
    expect(child.key).toBe(`${C}#1`);
    expect(child.exe?.ino).toBe(SH.ino); // filled from the parent when the fork arrived
    expect(liveMms(s)).toHaveLength(2);
    expect(s.pendingFork.size).toBe(0);
  });

  it('vfork child shares the parent mm; its exec leaves the parent mm alive', () => {
    const s = run([ev.exec(10, 100, A, SH), ev.fork(20, 100, 300, A, { sharesMm: true }), ev.execBegin(30, 300, A, '/usr/bin/ls'), ev.exec(31, 300, B, LS)]);
    expect(mmOfPid(s, 100)?.key).toBe(`${A}#1`);
    expect(mmOfPid(s, 300)?.key).toBe(`${B}#1`);
    expect(pget(s.mms, `${A}#1`)?.pids).toEqual([100, 300]);
  });

  it('exec from a non-leader thread: pid is the leader, the timeline names the thread', () => {
    const s = run([
      ev.exec(10, 100, A, SH),
      ev.fork(11, 100, 100, A, { thread: true, childTid: 102 }),
      ev.execBegin(20, 100, A, '/usr/bin/ls', '/usr/bin/ls', 102),
      ev.mmExit(21, 100, A, SH),
      ev.exec(22, 100, B, LS, { oldTid: 102 }),
    ]);
    const mm = mmOfPid(s, 100)!;
    expect(mm.key).toBe(`${B}#1`);
    expect(mm.tids).toEqual([100]);
    expect(mm.timeline[0]!.note).toBe('exec from thread 102');
    expect(endedMms(s)[0]!.pids).toEqual([100]);
  });
});

describe('start-up snapshots and bounds', () => {
  it('a process known only from a startup snapshot gets a pid-keyed record, bound to its mm later', () => {
    const s1 = run([ev.snapshot(1, 50, 'startup', SLEEP, [])]);
    expect(mmOfPid(s1, 50)?.key).toBe('pid:50@startup');
    expect(mmOfPid(s1, 50)?.timeline[0]!.cause).toBe('startup');
    const s2 = run([ev.mmap(5, 50, A, 0x7f0000000000, 0x1000, LIBC), ev.mmExit(9, 50, A)], s1);
    expect(s2.mms.size).toBe(0);
    expect(endedMms(s2)[0]!.key).toBe('pid:50@startup');
    expect(endedMms(s2)[0]!.addr).toBe(A);
  });

  it('ended mms are summarised and dropped: live state and kept summaries stay bounded', () => {
    let s = initialState({ maxEndedMms: 100 });
    const events = [];
    for (let i = 0; i < 3000; i++) {
      const mm = `0xffff8881${(i % 50).toString(16).padStart(8, '0')}`; // heavy address reuse
      events.push(ev.exec(i * 10, 1000 + i, mm, SLEEP), ev.mmExit(i * 10 + 5, 1000 + i, mm), ev.exit(i * 10 + 6, 1000 + i));
    }
    s = reduceAll(s, events);
    expect(s.mms.size).toBe(0);
    expect(s.pidMm.size).toBe(0);
    expect(endedMms(s)).toHaveLength(100);
    expect(s.endedDropped).toBe(2900);
    expect(s.endedTotal).toBe(3000);
    const last = endedMms(s)[99]!;
    expect(last.generation).toBe(60); // 3000 mms over 50 addresses
  });
});
