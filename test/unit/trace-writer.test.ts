import { mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/trace/events.js';
import { SCHEMA_VERSION, type TraceHeader } from '../../src/trace/trace-format.js';
import { readTrace, type TraceRecord } from '../../src/trace/trace-reader.js';
import { TraceWriter } from '../../src/trace/trace-writer.js';

export const header: TraceHeader = {
  magic: 'exetrace-trace',
  schemaVersion: SCHEMA_VERSION,
  toolVersion: '0.1.0',
  kernelRelease: '6.18.0',
  bpftraceVersion: 'v0.17.0',
  flavor: 'tracepoint',
  hostname: 'h',
  startedAt: new Date().toISOString(),
  clockRef: { monotonicNs: 123, wallMs: 456 },
  filters: { pid: null, comm: null },
};

const exitEv = (ts: number, comm: string): TraceEvent => ({ kind: 'exit', ts, pid: 10, tid: 10, comm, groupDead: true, exitCode: 0 });

async function all(path: string): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of readTrace(path)) out.push(r);
  return out;
}

describe('TraceWriter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exetrace-writer-'));

  it('creates the file 0600 even under umask 000 and over an existing 0666 file', () => {
    const path = join(dir, 'lax.trace');
    writeFileSync(path, 'old contents', { mode: 0o666 });
    const old = process.umask(0);
    try {
      const w = TraceWriter.create(path);
      w.onHeader(header);
      w.close();
    } finally {
      process.umask(old);
    }
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).not.toContain('old contents');
  });

  it('refuses to follow a symlink at the output path', () => {
    const target = join(dir, 'target');
    writeFileSync(target, 'keep');
    const link = join(dir, 'link.trace');
    symlinkSync(target, link);
    expect(() => TraceWriter.create(link)).toThrow(/ELOOP/);
    expect(readFileSync(target, 'utf8')).toBe('keep');
  });

  it('round-trips header, events with surrogate-escaped bytes, and trailer', async () => {
    const path = join(dir, 'rt.trace');
    const w = TraceWriter.create(path);
    w.onHeader(header);
    const hostile = 'a"b\\c\nd\u001b[31m\udcff\udc80é';
    w.onEvent(exitEv(1, hostile));
    w.onEvent({ kind: 'gap', ts: 2, lost: 7, source: 'bpftrace' });
    w.onEnd({ magic: 'exetrace-trailer', endedAt: 'x', events: w.events, lostEvents: w.lostEvents, parseIssues: 0, reason: 'signal', error: null });
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('\\udcff');
    const recs = await all(path);
    expect(recs.map((r) => r.type)).toEqual(['header', 'event', 'event', 'trailer']);
    const ev = recs[1];
    expect(ev?.type === 'event' && ev.event.kind === 'exit' && ev.event.comm).toBe(hostile);
    const tr = recs[3];
    expect(tr?.type === 'trailer' && tr.trailer.events).toBe(2);
    expect(tr?.type === 'trailer' && tr.trailer.lostEvents).toBe(7);
  });

  it('keeps events already written when the process dies without closing', async () => {
    const path = join(dir, 'crash.trace');
    // A child writes a header and events, then throws before any close/trailer.
    const script = `
      import { TraceWriter } from './src/trace/trace-writer.ts';
      const w = TraceWriter.create(${JSON.stringify(path)});
      w.onHeader(${JSON.stringify(header)});
      for (let i = 0; i < 3; i++) w.onEvent({ kind: 'exit', ts: i, pid: 1, tid: 1, comm: 'c', groupDead: true, exitCode: 0 });
      throw new Error('collector crashed');
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('collector crashed');
    const recs = await all(path);
    expect(recs.filter((x) => x.type === 'event')).toHaveLength(3);
    const last = recs.at(-1);
    expect(last?.type === 'error' && last.cause).toBe('truncated: no trailer after line 4');
  });
});
