// Compressed traces: TraceWriter writes gzip for a .gz path (still 0600, still a trailer), the
// reader recognises gzip by its magic bytes whatever the name, and a compressed trace cut
// anywhere (kill -9, a partial copy) or corrupted reads up to the damage with a clear record.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticEvents } from '../../bench/synthetic-trace.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { TRAILER_MAGIC, type TraceTrailer } from '../../src/trace/trace-format.js';
import { readTrace, type TraceRecord } from '../../src/trace/trace-reader.js';
import { TraceWriter } from '../../src/trace/trace-writer.js';
import { testHeader } from './fixtures/trace-header.fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'reader-gzip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const path = (suffix: string): string => join(dir, `t${n++}${suffix}`);

const events: TraceEvent[] = [...syntheticEvents(300)];
const trailer: TraceTrailer = { magic: TRAILER_MAGIC, endedAt: 'e', events: events.length, lostEvents: 0, parseIssues: 0, reason: 'signal', error: null };

async function all(p: string): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of readTrace(p)) out.push(r);
  return out;
}
const eventsOf = (r: TraceRecord[]) => r.flatMap((x) => (x.type === 'event' ? [x.event] : []));
const errorsOf = (r: TraceRecord[]) => r.flatMap((x) => (x.type === 'error' ? [x.cause] : []));

async function write(p: string, opts: { gzip?: boolean } = {}): Promise<void> {
  const w = TraceWriter.create(p, opts);
  w.onHeader(testHeader());
  for (const e of events) w.onEvent(e);
  w.onEnd(trailer);
  await w.close();
}

describe('compressed traces', () => {
  it('a .gz path is written as gzip, mode 0600 under umask 000, and decompresses to the plain trace', async () => {
    const plain = path('.jsonl');
    const gz = path('.jsonl.gz');
    writeFileSync(gz, 'old contents', { mode: 0o666 });
    const old = process.umask(0);
    try {
      await write(plain);
      await write(gz);
    } finally {
      process.umask(old);
    }
    expect(statSync(gz).mode & 0o777).toBe(0o600);
    const bytes = readFileSync(gz);
    expect([...bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(bytes.length).toBeLessThan(statSync(plain).size / 4);
    // The system's gzip agrees: a valid stream, and the same text as the plain writer's.
    expect(execFileSync('gzip', ['-dc', gz]).equals(readFileSync(plain))).toBe(true);
    const r = await all(gz);
    expect(errorsOf(r)).toEqual([]);
    expect(eventsOf(r)).toEqual(eventsOf(await all(plain)));
    expect(r.at(-1)).toMatchObject({ type: 'trailer', trailer: { events: events.length } });
  });

  it('is recognised by its magic bytes, not its name', async () => {
    const gzNamedPlain = path('.trace');
    await write(gzNamedPlain, { gzip: true });
    const plainNamedGz = path('.gz');
    await write(plainNamedGz, { gzip: false });
    for (const p of [gzNamedPlain, plainNamedGz]) {
      const r = await all(p);
      expect(errorsOf(r)).toEqual([]);
      expect(eventsOf(r)).toHaveLength(events.length);
    }
  });

  it('a gzip trace cut at any point reads a prefix of the events, ending with a truncation record', async () => {
    const gz = path('.gz');
    await write(gz);
    const bytes = readFileSync(gz);
    const step = Math.max(1, Math.floor(bytes.length / 40));
    for (let cut = 1; cut < bytes.length; cut += step) {
      const p = path('.gz');
      writeFileSync(p, bytes.subarray(0, cut));
      const r = await all(p);
      const got = eventsOf(r);
      expect(got).toEqual(events.slice(0, got.length));
      expect(r.at(-1)).toMatchObject({ type: 'error', cause: expect.stringMatching(/^truncated: |^no valid header|^empty trace/) });
      if (r[0]?.type === 'header') expect(errorsOf(r).some((c) => c.startsWith('truncated: the compressed trace is cut short'))).toBe(true);
    }
  });

  it('corrupt compressed data is a clear record, and what came before it is kept', async () => {
    const gz = path('.gz');
    await write(gz);
    const bytes = Buffer.from(readFileSync(gz));
    expect(bytes.length).toBeGreaterThan(40_000); // the damage lies past the first 16 KiB the reader hands zlib
    const at = Math.floor(bytes.length * 0.8);
    for (let i = at; i < at + 8; i++) bytes[i]! ^= 0xff;
    const p = path('.gz');
    writeFileSync(p, bytes);
    const r = await all(p);
    expect(r[0]?.type).toBe('header');
    const got = eventsOf(r);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(events.length);
    expect(errorsOf(r).some((c) => /^the compressed data is corrupt after \d+ decompressed bytes/.test(c))).toBe(true);
  });

  it('a gzip of something else is not a trace; an empty gzip is an empty trace', async () => {
    const other = path('.gz');
    writeFileSync(other, gzipSync('hello\n'));
    expect(errorsOf(await all(other))[0]).toMatch(/^no valid header: not an exetrace trace \(invalid JSON/);
    const empty = path('.gz');
    writeFileSync(empty, gzipSync(''));
    expect(errorsOf(await all(empty))).toEqual(['empty trace: no header']);
  });

  it('after kill -9 of the writer, every event handed over more than a flush interval before is readable', async () => {
    const gz = path('.jsonl.gz');
    // The child writes events, says how many, then idles without closing until killed.
    const script = `
      import { syntheticEvents } from './bench/synthetic-trace.ts';
      import { TraceWriter } from './src/trace/trace-writer.ts';
      import { testHeader } from './test/unit/fixtures/trace-header.fixture.ts';
      const w = TraceWriter.create(${JSON.stringify(gz)});
      w.onHeader(testHeader());
      let n = 0;
      for (const e of syntheticEvents(300)) { w.onEvent(e); n++; }
      process.stdout.write('written ' + n + '\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const written = await new Promise<number>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (d: Buffer) => {
        text += String(d);
        const m = /written (\d+)/.exec(text);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', () => reject(new Error('child exited early')));
    });
    await new Promise((r) => setTimeout(r, 500)); // > FLUSH_MS, and the compressor's turn
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The stream was never ended: gzip -t calls it truncated, yet every event is there.
    expect(() => gunzipSync(readFileSync(gz))).toThrow(/unexpected end of file/);
    const r = await all(gz);
    expect(eventsOf(r)).toHaveLength(written);
    expect(eventsOf(r)).toEqual(events);
    expect(errorsOf(r)).toEqual([
      expect.stringMatching(/^truncated: the compressed trace is cut short after \d+ decompressed bytes/),
      expect.stringMatching(/^truncated: no trailer after line \d+$/),
    ]);
  }, 30_000);
});
