// The TypeBox schema is the validator: driven by the schema itself, every field of every kind
// is checked (removed → "is missing", wrong type → named by kind and field), every kind has a
// compiled validator, and the header's and trailer's answers are clear sentences.
import { Kind, OptionalKind, type TObject, type TSchema } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMAS } from '../../src/trace/event-schema.js';
import type { TraceEvent, TraceEventKind } from '../../src/trace/events.js';
import { TRAILER_MAGIC, checkBodyLine, checkEvent, checkHeader } from '../../src/trace/trace-format.js';
import { DECOY, EXE_TEXT, SLEEP, ev, maps, ordinaryMaps } from './fixtures/model-events.fixture.js';
import { testHeader } from './fixtures/trace-header.fixture.js';

const A = '0xffff888100000a00';
/** One valid event of every kind. */
const EXAMPLES: Record<TraceEventKind, TraceEvent> = {
  exec_begin: ev.execBegin(1, 100, A, '/bin/ls'),
  exec: ev.exec(2, 100, A, SLEEP),
  fork: ev.fork(3, 100, 101, A),
  mm_attach: ev.attach(4, 101, A, SLEEP),
  mm_exit: ev.mmExit(5, 100, A, SLEEP),
  exit: ev.exit(6, 100),
  mmap: ev.mmap(7, 100, A, 0x20000, 0x1000, DECOY),
  munmap: ev.munmap(8, 100, A, EXE_TEXT[0], 0x1000),
  mremap: ev.mremap(9, 100, A, EXE_TEXT[0], 0x1000, 0x2000, 0x7f0000000000),
  mprotect: ev.mprotect(10, 100, A, EXE_TEXT[0], 0x4000, 1),
  prctl_mm: ev.prctl(11, 100, A, SLEEP, DECOY),
  exe_read: ev.exeRead(12, 100, '/usr/bin/sleep'),
  proc_snapshot: ev.snapshot(13, 100, 'exe_read', SLEEP, [maps(DECOY, 0x10000, 0x12000), ...ordinaryMaps(SLEEP)]),
  gap: ev.gap(14),
};

const copy = <T>(v: T): T => structuredClone(v);
const isOptional = (s: TSchema): boolean => s[OptionalKind] === 'Optional';

/** A value of the wrong type for `schema` (never accepted by it). */
function wrongFor(schema: TSchema): unknown {
  switch (schema[Kind]) {
    case 'String':
    case 'Literal':
      return 42;
    case 'Union':
      return { unexpected: true };
    default:
      return 'not-this';
  }
}

describe('the event schema is the validator', () => {
  it('has one compiled validator per kind, and every example is valid', () => {
    expect(EVENT_SCHEMAS.map((s) => s.properties.kind.const).sort()).toEqual(Object.keys(EXAMPLES).sort());
    for (const e of Object.values(EXAMPLES)) expect(checkEvent(copy(e) as unknown as Record<string, unknown>)).toEqual({ ok: true, value: e });
  });

  for (const schema of EVENT_SCHEMAS as readonly TObject[]) {
    const kind = schema.properties.kind!.const as TraceEventKind;
    it(`${kind}: every field is checked, by name`, () => {
      for (const [field, fieldSchema] of Object.entries(schema.properties)) {
        if (field === 'kind') continue;
        const missing = copy(EXAMPLES[kind]) as unknown as Record<string, unknown>;
        delete missing[field];
        const m = checkEvent(missing);
        if (isOptional(fieldSchema)) expect(m.ok).toBe(true);
        else expect(m).toEqual({ ok: false, cause: `${kind}.${field} is missing` });
        const wrong = copy(EXAMPLES[kind]) as unknown as Record<string, unknown>;
        wrong[field] = wrongFor(fieldSchema);
        const w = checkEvent(wrong);
        expect(w.ok, `${kind}.${field} = ${JSON.stringify(wrong[field])}`).toBe(false);
        expect(!w.ok && w.cause).toMatch(new RegExp(`^${kind}\\.${field}[. [].*is|^${kind}\\.${field} is `));
      }
    });
  }

  it('names nested fields and refuses integers a JSON number cannot hold exactly', () => {
    const exec = copy(EXAMPLES.exec) as unknown as Record<string, unknown>;
    (exec.exe as Record<string, unknown>).ino = 1.5;
    expect(checkEvent(exec)).toEqual({ ok: false, cause: 'exec.exe.ino is not an integer' });
    const snap = copy(EXAMPLES.proc_snapshot) as unknown as { maps: Record<string, unknown>[] };
    snap.maps[1]!.perms = null;
    expect(checkEvent(snap as unknown as Record<string, unknown>)).toEqual({ ok: false, cause: 'proc_snapshot.maps[1].perms is not a string' });
    expect(checkEvent({ ...copy(EXAMPLES.gap), ts: 2 ** 60 })).toEqual({
      ok: false,
      cause: 'gap.ts is outside the integers a JSON number holds exactly (±2^53)',
    });
    expect(checkEvent({ ...copy(EXAMPLES.exit), kind: 'exec_v3' })).toMatchObject({ ok: false, cause: expect.stringMatching(/^unknown event kind "exec_v3"/) });
    expect(checkEvent({ ts: 1 })).toEqual({ ok: false, cause: 'line has no event kind (kind is missing)' });
  });

  it('ignores fields it does not know (optional ones of a newer recorder)', () => {
    expect(checkEvent({ ...copy(EXAMPLES.exec), argv0: 'sleep' }).ok).toBe(true);
  });
});

describe('header and trailer answers', () => {
  it('says what is wrong with a header in one sentence', () => {
    expect(checkHeader([])).toEqual({ ok: false, cause: 'not an exetrace trace (the first line is not a JSON object)' });
    expect(checkHeader({ hello: 1 })).toEqual({ ok: false, cause: 'not an exetrace trace (magic undefined)' });
    expect(checkHeader({ ...testHeader(), schemaVersion: 3 })).toEqual({
      ok: false,
      cause: 'trace schema version 3 is newer than this exetrace reads (1 and 2): read it with a newer exetrace',
    });
    expect(checkHeader({ ...testHeader(), schemaVersion: '2' })).toEqual({ ok: false, cause: 'unsupported schema version "2" (this exetrace reads 1 and 2)' });
    expect(checkHeader({ ...testHeader(), flavor: 'ebpf' })).toEqual({ ok: false, cause: 'header.flavor is not one of tracepoint|kprobe|kfunc' });
    expect(checkHeader({ ...testHeader(), clockRef: { monotonicNs: 1 } })).toEqual({ ok: false, cause: 'header.clockRef.wallMs is missing' });
  });

  it('checks the trailer too', () => {
    const t = { magic: TRAILER_MAGIC, endedAt: 'e', events: 1, lostEvents: 0, parseIssues: 0, reason: 'signal', error: null };
    expect(checkBodyLine(t)).toMatchObject({ type: 'trailer' });
    expect(checkBodyLine({ ...t, events: -1 })).toEqual({ type: 'error', cause: 'trailer.events is negative' });
    expect(checkBodyLine({ ...t, reason: 'bored' })).toEqual({ type: 'error', cause: 'trailer.reason is not one of duration|signal|bpftrace-exited|error' });
    expect(checkBodyLine({ ...t, drain: { complete: 'yes', answeredCpus: 1, cpus: 2 } })).toEqual({
      type: 'error',
      cause: 'trailer.drain.complete is not a boolean',
    });
  });
});
