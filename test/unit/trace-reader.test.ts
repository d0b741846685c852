import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TraceConsumer } from '../../src/trace/consumer.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { SCHEMA_VERSION } from '../../src/trace/trace-format.js';
import { readTrace, replayTrace, type TraceRecord } from '../../src/trace/trace-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'exetrace-reader-'));
let n = 0;
function file(text: string): string {
  const p = join(dir, `t${n++}.trace`);
  writeFileSync(p, text);
  return p;
}
async function all(path: string): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of readTrace(path)) out.push(r);
  return out;
}
const j = (v: unknown): string => `${JSON.stringify(v)}\n`;
const header = {
  magic: 'exetrace-trace',
  schemaVersion: SCHEMA_VERSION,
  toolVersion: '0.1.0',
  kernelRelease: '6.18',
  bpftraceVersion: 'v0.17.0',
  flavor: 'tracepoint',
  hostname: 'h',
  startedAt: 'now',
  clockRef: { monotonicNs: 1, wallMs: 2 },
  filters: { pid: null, comm: null },
};
const trailer = { magic: 'exetrace-trailer', endedAt: 'e', events: 1, lostEvents: 0, parseIssues: 0, reason: 'signal', error: null };
const file0 = { file: '0xffff888100000000', dev: 2049, ino: 12, name: 'sleep', path: '/usr/bin/sleep', pathTruncated: false };
const exec: TraceEvent = {
  kind: 'exec',
  ts: 5,
  pid: 100,
  tid: 100,
  comm: 'sleep',
  oldTid: 100,
  ppid: 1,
  mm: '0xffff888100001000',
  exe: file0,
  startCode: 0x1000,
  endCode: 0x2000,
  filename: '/usr/bin/sleep',
};
const errors = (r: TraceRecord[]) => r.filter((x) => x.type === 'error') as Extract<TraceRecord, { type: 'error' }>[];

describe('readTrace', () => {
  it('reads a complete trace', async () => {
    const r = await all(file(j(header) + j(exec) + j(trailer)));
    expect(r.map((x) => [x.type, x.line])).toEqual([
      ['header', 1],
      ['event', 2],
      ['trailer', 3],
    ]);
  });

  it('reports a bad line with its number and cause, and keeps reading', async () => {
    const r = await all(file(j(header) + '{not json\n' + j({ ...exec, pid: 'x' }) + j({ kind: 'nope', ts: 1 }) + j(exec) + j(trailer)));
    const e = errors(r);
    expect(e.map((x) => x.line)).toEqual([2, 3, 4]);
    expect(e[0]!.cause).toMatch(/invalid JSON/);
    expect(e[0]!.raw).toBe('{not json');
    expect(e[1]!.cause).toBe('exec.pid is not an integer');
    expect(e[2]!.cause).toMatch(/^unknown event kind "nope" \(not one of the 14 kinds this exetrace reads; a newer exetrace may have written it\)$/);
    expect(r.filter((x) => x.type === 'event')).toHaveLength(1);
    expect(r.at(-1)?.type).toBe('trailer');
  });

  it('validates nested shapes: file refs, maps, enums, missing fields', async () => {
    const bad = [
      { ...exec, exe: { ...file0, dev: '8:1' } },
      { ...exec, mm: 'ffff' },
      {
        kind: 'proc_snapshot',
        ts: 1,
        pid: 1,
        tid: 1,
        comm: 'x',
        reason: 'startup',
        exeLink: null,
        exeError: 'ENOENT',
        exeDev: null,
        exeIno: null,
        maps: [{ start: 1 }],
      },
      { kind: 'gap', ts: 1, lost: 2, source: 'elsewhere' },
      { kind: 'exit', ts: 1, pid: 1, tid: 1, comm: 'x', groupDead: true },
    ];
    const r = await all(file(j(header) + bad.map(j).join('') + j(trailer)));
    expect(errors(r).map((x) => x.cause)).toEqual([
      'exec.exe.dev is not an integer',
      'exec.mm is not a 0x hex string',
      'proc_snapshot.maps[0].end is missing',
      'gap.source is not one of bpftrace|decoder',
      'exit.exitCode is missing',
    ]);
  });

  it('accepts exe_read from proc_exe_link and still refuses unknown syscalls', async () => {
    const read = {
      kind: 'exe_read',
      ts: 5,
      pid: 7,
      tid: 7,
      comm: 'cat',
      syscall: 'proc_exe_link',
      path: 'exe',
      dirName: '100',
      targetPid: 100,
      ret: 0,
      answer: '/usr/bin/sleep',
    };
    const r = await all(file(j(header) + j(read) + j({ ...read, syscall: 'stat' }) + j(trailer)));
    expect(r.filter((x) => x.type === 'event').map((x) => x.type === 'event' && x.event)).toEqual([read]);
    expect(errors(r).map((x) => [x.line, x.cause])).toEqual([[3, 'exe_read.syscall is not one of readlink|readlinkat|openat|execve|proc_exe_link']]);
  });

  it('stops at a missing header or a wrong schema version', async () => {
    let r = await all(file(j(exec) + j(trailer)));
    expect(r).toHaveLength(1);
    expect(errors(r)[0]!.cause).toMatch(/^no valid header: not an exetrace trace/);
    r = await all(file(j({ ...header, schemaVersion: 99 }) + j(exec)));
    expect(r).toHaveLength(1);
    expect(errors(r)[0]!.cause).toBe('no valid header: trace schema version 99 is newer than this exetrace reads (1 and 2): read it with a newer exetrace');
    r = await all(file(''));
    expect(errors(r)[0]!.cause).toBe('empty trace: no header');
  });

  it('reports a truncated trace and a partial last line', async () => {
    let r = await all(file(j(header) + j(exec)));
    expect(r.at(-1)).toMatchObject({ type: 'error', line: 2, cause: 'truncated: no trailer after line 2' });
    r = await all(file(j(header) + j(exec) + JSON.stringify(exec).slice(0, 20)));
    const e = errors(r);
    expect(e[0]).toMatchObject({ line: 3, cause: 'partial last line (no newline): the trace was cut short' });
    expect(e[1]!.cause).toBe('truncated: no trailer after line 3');
  });

  it('flags data after the trailer and a second header', async () => {
    const r = await all(file(j(header) + j(header) + j(trailer) + j(exec)));
    expect(errors(r).map((x) => [x.line, x.cause])).toEqual([
      [2, 'a second header inside the trace'],
      [4, 'data after the trailer on line 3'],
    ]);
  });

  it('names a missing file instead of throwing', async () => {
    const r = await all(join(dir, 'does-not-exist'));
    expect(errors(r)[0]!.cause).toMatch(/ENOENT/);
  });
});

describe('replayTrace', () => {
  it('drives the consumer hooks in order, and synthesises an end for a truncated trace', async () => {
    const calls: string[] = [];
    const c: TraceConsumer = {
      onHeader: () => calls.push('header'),
      onEvent: (e) => calls.push(e.kind),
      onIssue: (i) => calls.push(`issue:${i.line}`),
      onEnd: (t) => calls.push(`end:${t.reason}`),
    };
    const s = await replayTrace(file(j(header) + j(exec) + 'x\n' + j({ kind: 'gap', ts: 9, lost: 3, source: 'bpftrace' })), c);
    expect(calls).toEqual(['header', 'exec', 'issue:3', 'gap', 'issue:4', 'end:error']);
    expect(s.trailer).toBeNull();
    expect(s.events).toBe(2);
  });
});
