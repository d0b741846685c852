// Live: `exetrace record --out FILE.jsonl.gz` with real bpftrace. A finished recording is gzip,
// mode 0600, with its trailer, and analyze reads it; a recorder killed -9 leaves a gzip stream
// without its end that still holds what was recorded, which analyze reads up to the cut and
// reports as truncated. Needs root and bpftrace.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { skipLive } from '../support/live-gate.js';
import { execStorm, startRecord, traceRecords } from '../support/record.js';

const dir = mkdtempSync(join(tmpdir(), 'reader-live-gzip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipLive())('live: compressed recording', () => {
  it('record --out F.jsonl.gz: gzip, 0600, trailer; analyze reads it', async () => {
    const out = join(dir, 'run.jsonl.gz');
    const stop = execStorm();
    let end;
    try {
      end = await startRecord({ out, args: ['--duration', '3', '--quiet'] }).exited;
    } finally {
      stop();
    }
    expect(end.code, end.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect([...readFileSync(out).subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    const recs = await traceRecords(out);
    expect(recs.filter((r) => r.type === 'error')).toEqual([]);
    expect(recs.some((r) => r.type === 'event' && r.event.kind === 'exec' && r.event.comm === 'true')).toBe(true);
    const trailer = recs.at(-1);
    expect(trailer).toMatchObject({ type: 'trailer', trailer: { reason: 'duration' } });
    expect(trailer?.type === 'trailer' && trailer.trailer.events).toBe(recs.filter((r) => r.type === 'event').length);
    const a = await runCli(['analyze', out, '--format', 'json']);
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ trace: { truncated: false } });
  }, 120_000);

  it('record killed -9: the gzip trace holds what was recorded up to a flush interval, analyze reports the cut', async () => {
    const out = join(dir, 'killed.jsonl.gz');
    const stop = execStorm();
    try {
      const rec = startRecord({ out });
      await rec.ready;
      await sleep(2000);
      process.kill(rec.pid, 'SIGKILL');
      await rec.exited;
    } finally {
      stop();
    }
    const recs = await traceRecords(out);
    expect(recs[0]?.type).toBe('header');
    const execs = recs.filter((r) => r.type === 'event' && r.event.kind === 'exec' && r.event.comm === 'true');
    // Two seconds of one exec every ~25 ms: dozens, not the handful a final-flush-only writer would keep.
    expect(execs.length).toBeGreaterThan(20);
    expect(recs.at(-1)).toMatchObject({ type: 'error', cause: expect.stringMatching(/^truncated: no trailer after line \d+$/) });
    const a = await runCli(['analyze', out]);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/TRUNCATED \(no trailer line\): analysed up to the cut/);
    expect(a.stderr).toMatch(/truncated: the compressed trace is cut short after \d+ decompressed bytes/);
    expect(a.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});
