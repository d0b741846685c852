// reduce must never mutate its input: run every event kind against a deep-frozen state.
import { describe, expect, it } from 'vitest';
import { initialState, reduce, reduceAll, type ModelState } from '../../src/model/index.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { DECOY, EXE_TEXT, LIBC, SLEEP, ev, file, maps, ordinaryLaunch, ordinaryMaps } from './fixtures/model-events.fixture.js';

function deepFreeze<T>(value: T, seen = new Set<unknown>()): T {
  if (value === null || typeof value !== 'object' || seen.has(value)) return value;
  seen.add(value);
  for (const v of Object.values(value as object)) deepFreeze(v, seen);
  return Object.freeze(value);
}

const A = '0xffff888100000a00';
const B = '0xffff888100000b00';
const C = '0xffff888100000c00';

// A state that has something in every collection: live mms, ended mms, findings, gaps, pendings.
function busyState(): ModelState {
  return reduceAll(initialState({ maxEndedMms: 3, maxFindings: 4 }), [
    ...ordinaryLaunch(10, 100, A),
    ev.gap(15),
    ev.mmap(20, 100, A, 0x10000, 0x2000, DECOY),
    ev.snapshot(21, 100, 'exe_read', SLEEP, [maps(DECOY, 0x10000, 0x12000), ...ordinaryMaps(SLEEP)]),
    ev.execBegin(30, 200, null, '/usr/bin/sleep'),
    ev.fork(31, 100, 300, A),
    ev.exec(40, 400, C, SLEEP),
    ev.mmExit(41, 400, C),
  ]);
}

const everyKind: TraceEvent[] = [
  ev.execBegin(50, 100, A, '/bin/ls'),
  ev.exec(51, 100, B, SLEEP),
  ev.exec(51, 500, A, SLEEP), // reuses a live address: supersedes
  ev.fork(52, 100, 101, A, { thread: true }),
  ev.fork(52, 100, 300, A),
  ev.attach(53, 300, C, SLEEP, { ppid: 100 }),
  ev.attach(53, 100, A, SLEEP, { tid: 101 }),
  ev.mmExit(54, 100, A),
  ev.mmExit(5, 100, C), // late
  ev.exit(55, 100),
  ev.mmap(56, 100, A, 0x20000, 0x1000, DECOY),
  ev.mmap(56, 999, '0xffff888100000d00', 0x20000, 0x1000, LIBC), // unknown mm
  ev.munmap(57, 100, A, EXE_TEXT[0], 0x1000),
  ev.mremap(58, 100, A, EXE_TEXT[0], 0x1000, 0x2000, 0x7f0000000000),
  ev.mprotect(59, 100, A, EXE_TEXT[0], 0x4000, 1),
  ev.prctl(60, 100, A, SLEEP, file(0x801, 7, '/usr/bin/new')),
  ev.exeRead(61, 100, '/usr/bin/sleep (deleted)'),
  ev.snapshot(62, 100, 'vma_change', SLEEP, ordinaryMaps(SLEEP)),
  ev.snapshot(62, 600, 'startup', SLEEP, ordinaryMaps(SLEEP)),
  ev.gap(63),
];

describe('reduce is pure', () => {
  it('never mutates a deep-frozen input state, for every event kind', () => {
    const frozen = deepFreeze(busyState());
    const before = JSON.stringify(frozen);
    for (const e of everyKind) {
      const next = reduce(frozen, deepFreeze({ ...e }));
      expect(next).not.toBe(frozen);
    }
    expect(JSON.stringify(frozen)).toBe(before);
  });

  it('is deterministic: the same stream gives the same state', () => {
    const a = reduceAll(busyState(), everyKind);
    const b = reduceAll(busyState(), everyKind);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('frozen chain: each intermediate state frozen before the next event', () => {
    let s = deepFreeze(initialState());
    for (const e of [...ordinaryLaunch(1, 100, A), ...everyKind]) s = deepFreeze(reduce(s, e));
    expect(s.counters.events).toBe(4 + everyKind.length);
  });
});
