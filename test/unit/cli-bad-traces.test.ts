// The real CLI on traces that are wrong in each way a user meets: one clear sentence naming
// FILE:LINE and the cause, the documented exit status, never a stack trace.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticTrace } from '../../bench/synthetic-trace.js';
import { runCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'reader-bad-traces-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const good = [...syntheticTrace(20)].join('');
const goodLines = good.split('\n').slice(0, -1);
function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
const NO_STACK = /\n\s+at |Error:|crashed/;

describe('clear answers for bad traces', () => {
  it('an unknown event kind: FILE:LINE and the kind; exit 2, or analysed and counted with --lenient', async () => {
    const lines = [...goodLines];
    lines.splice(3, 0, JSON.stringify({ kind: 'exec_v9', ts: 1 }));
    const p = file('unknown-kind.trace', `${lines.join('\n')}\n`);
    const strict = await runCli(['analyze', p]);
    expect(strict.stderr).toMatch(
      new RegExp(`^${p}:4: unknown event kind "exec_v9" \\(not one of the 14 kinds this exetrace reads; a newer exetrace may have written it\\)$`, 'm'),
    );
    expect(strict.stderr).toMatch(/--lenient skips bad lines/);
    expect(strict.stderr).not.toMatch(NO_STACK);
    expect(strict.code).toBe(2);
    const lenient = await runCli(['analyze', p, '--lenient', '--format', 'json']);
    expect(lenient.code).toBe(0);
    expect(JSON.parse(lenient.stdout).trace).toMatchObject({ parseErrors: 1, truncated: false });
  });

  it('a newer schema version says so and how to read it', async () => {
    const lines = [...goodLines];
    lines[0] = JSON.stringify({ ...JSON.parse(lines[0]!), schemaVersion: 3 });
    const p = file('newer.trace', `${lines.join('\n')}\n`);
    for (const args of [
      ['analyze', p],
      ['replay', p, '--speed', 'max'],
    ]) {
      const r = await runCli(args);
      expect(r.stderr).toContain(`${p}:1: no valid header: trace schema version 3 is newer than this exetrace reads (1 and 2): read it with a newer exetrace`);
      expect(r.stderr).not.toMatch(NO_STACK);
      expect(r.code).not.toBe(0);
    }
  });

  it('an empty file, a plain and a gzip one', async () => {
    for (const p of [file('empty.trace', ''), file('empty.trace.gz', gzipSync(''))]) {
      const r = await runCli(['analyze', p]);
      expect(r.stderr).toContain(`${p}:0: empty trace: no header`);
      expect(r.stderr).toContain('is not a readable exetrace trace');
      expect(r.stderr).not.toMatch(NO_STACK);
      expect(r.code).toBe(2);
    }
  });

  it('a file that is not a trace: a binary, a text file, a directory', async () => {
    const binary = join(dir, 'true-binary');
    copyFileSync('/bin/true', binary);
    const cases: [string, RegExp][] = [
      [binary, /:1: no valid header: not an exetrace trace \(not UTF-8 text, nor gzip\)/],
      [file('notes.txt', 'hello\n'), /:1: no valid header: not an exetrace trace \(invalid JSON: /],
      [file('other.json', '{"a":1}\n'), /:1: no valid header: not an exetrace trace \(magic undefined\)/],
      [dir, /: cannot read .*: EISDIR/],
    ];
    for (const [p, why] of cases) {
      const r = await runCli(['analyze', p]);
      expect(r.stderr).toMatch(why);
      expect(r.stderr).not.toMatch(NO_STACK);
      expect(r.code).toBe(2);
      const replay = await runCli(['replay', p, '--speed', 'max']);
      expect(replay.stderr).toMatch(why);
      expect(replay.stderr).not.toMatch(NO_STACK);
      expect(replay.code).toBe(1);
    }
  });

  it('a truncated last line (a cut trace, plain or gzip): analysed up to the cut, flagged, exit 0', async () => {
    const cut = good.slice(0, Math.floor(good.length * 0.6));
    const cutGz = gzipSync(good).subarray(0, Math.floor(gzipSync(good).length * 0.6));
    for (const p of [file('cut.trace', cut), file('cut.trace.gz', cutGz)]) {
      const r = await runCli(['analyze', p]);
      expect(r.stdout).toMatch(/TRUNCATED \(no trailer line\): analysed up to the cut/);
      expect(r.stderr).toMatch(/partial last line \(no newline\): the trace was cut short/);
      expect(r.stderr).toMatch(/truncated: no trailer after line \d+/);
      expect(r.stderr).not.toMatch(NO_STACK);
      expect(r.code).toBe(0);
    }
    expect(readFileSync(join(dir, 'cut.trace.gz')).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  });
});
