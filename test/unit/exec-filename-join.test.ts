import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/trace/events.js';
import { ARGV0_IS_FILENAME, ExecFilenameJoin } from '../../src/trace/exec-filename-join.js';

const begin = (tid: number, filename: string): TraceEvent => ({
  kind: 'exec_begin',
  ts: 1,
  pid: tid,
  tid,
  comm: 'sh',
  oldMm: null,
  filename,
  interp: filename,
});
const exec = (pid: number, oldTid: number, filename = ''): TraceEvent => ({
  kind: 'exec',
  ts: 2,
  pid,
  tid: pid,
  comm: 'x',
  oldTid,
  ppid: 1,
  mm: '0x1',
  exe: null,
  startCode: 0,
  endCode: 0,
  filename,
});

function run(events: TraceEvent[]): TraceEvent[] {
  const out: TraceEvent[] = [];
  const j = new ExecFilenameJoin((e) => out.push(e));
  for (const e of events) j.push(e);
  return out;
}
const filenames = (es: TraceEvent[]) => es.flatMap((e) => (e.kind === 'exec' ? [e.filename] : []));

describe('ExecFilenameJoin', () => {
  it("copies exec_begin's filename into the exec of the same thread (a non-leader exec: oldTid)", () => {
    expect(filenames(run([begin(12, '/bin/a'), begin(20, '/bin/b'), exec(20, 20), exec(10, 12)]))).toEqual(['/bin/b', '/bin/a']);
  });

  it("keeps a filename the exec printed itself (comm filter) and leaves a lost exec_begin's exec empty", () => {
    expect(filenames(run([begin(5, '/bin/a'), exec(5, 5, '/bin/own'), exec(6, 6)]))).toEqual(['/bin/own', '']);
  });

  it('an exit ends an exec in progress, so a later exec of a reused tid is not given its name', () => {
    expect(filenames(run([begin(5, '/bin/a'), { kind: 'exit', ts: 3, pid: 5, tid: 5, comm: 'a', groupDead: true, exitCode: 0 }, exec(5, 5)]))).toEqual(['']);
  });

  it("argv0 marked equal to the filename becomes exec_begin's filename, and is dropped when that was lost", () => {
    const out = run([begin(5, '/bin/a'), { ...exec(5, 5), argv0: ARGV0_IS_FILENAME } as TraceEvent, { ...exec(6, 6), argv0: ARGV0_IS_FILENAME } as TraceEvent]);
    expect(out.map((e) => (e.kind === 'exec' ? [e.filename, e.argv0] : e.kind))).toEqual(['exec_begin', ['/bin/a', '/bin/a'], ['', undefined]]);
    expect(out[2]).not.toHaveProperty('argv0');
  });
});
