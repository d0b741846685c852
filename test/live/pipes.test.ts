// Live: `record` and `live` (off a TTY) with a reader that goes away, through a real shell pipe
// into `head -1`. The command ends quietly (exit 0, no stack trace) and the trace it was writing
// is complete: flushed, closed, with its trailer. Needs root and bpftrace.
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliCommand, REPO_ROOT } from '../support/cli.js';
import { skipLive } from '../support/live-gate.js';
import { execStorm, traceRecords } from '../support/record.js';

const dir = mkdtempSync(join(tmpdir(), 'reader-live-pipes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STACK = /\n\s+at |Error: write|EPIPE|crashed/;

async function pipedToHead(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [node, argv] = cliCommand(args);
  const r = await execa('bash', ['-c', '"$@" | head -1; exit "${PIPESTATUS[0]}"', 'bash', node, ...argv], { cwd: REPO_ROOT, reject: false, timeout: 180_000 });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe.skipIf(skipLive())('live: a closed stdout while recording', () => {
  it.each(['record.trace', 'record.jsonl.gz'])(
    'record --out %s --duration 2 | head -1: exit 0, the trace has its trailer',
    async (name) => {
      const out = join(dir, name);
      const stop = execStorm(0.05);
      try {
        const r = await pipedToHead(['record', '--out', out, '--duration', '2']);
        expect(r.stderr).not.toMatch(STACK);
        expect(r.stdout).toMatch(/^events: \d+$/);
        expect(r.code).toBe(0);
      } finally {
        stop();
      }
      const recs = await traceRecords(out);
      expect(recs.filter((x) => x.type === 'error')).toEqual([]);
      expect(recs.at(-1)).toMatchObject({ type: 'trailer', trailer: { reason: 'duration' } });
    },
    200_000,
  );

  it('live --record F | head -1 (the line printer): the reader leaving stops the session, trailer written', async () => {
    const out = join(dir, 'live.trace');
    const stop = execStorm(0.05);
    let r;
    try {
      r = await pipedToHead(['live', '--record', out]);
    } finally {
      stop();
    }
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stdout).toMatch(/^# exetrace /);
    expect(r.code).toBe(0);
    const recs = await traceRecords(out);
    expect(recs.filter((x) => x.type === 'error')).toEqual([]);
    expect(recs.filter((x) => x.type === 'event').length).toBeGreaterThan(0);
    expect(recs.at(-1)).toMatchObject({ type: 'trailer', trailer: { reason: 'signal' } });
  }, 200_000);
});
