// A reader that goes away is a normal end: the real CLI piped into `head -1` through a real
// shell pipe, and into a socket that is closed after the first bytes. No stack trace, exit 0,
// no temporary file left behind. A failing stdout that is not a closed reader (/dev/full) is
// one clear line and exit 1.
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSyntheticTrace } from '../../bench/synthetic-trace.js';
import { suitsWorker } from '../../src/trace/worker-reading.js';
import { cliCommand, REPO_ROOT } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'reader-pipes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// Big enough that every command has far more than a pipe buffer (64 KiB) to write, and that the
// worker reader (and, for replay, the threaded line printer) does the reading and writing.
const trace = join(dir, 'big.trace');
writeSyntheticTrace(trace, 3000);
// Small enough for the in-thread reader and line printer.
const small = join(dir, 'small.trace');
writeSyntheticTrace(small, 500);
const spoolTmp = join(dir, 'tmp');
mkdirSync(spoolTmp);

const STACK = /\n\s+at |Error: write|EPIPE|crashed/;

/** `CLI ARGS | head -1` in bash; the CLI's own exit status comes from PIPESTATUS. */
async function pipedToHead(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [node, argv] = cliCommand(args);
  const r = await execa('bash', ['-c', '"$@" | head -1; exit "${PIPESTATUS[0]}"', 'bash', node, ...argv], {
    cwd: REPO_ROOT,
    reject: false,
    timeout: 60_000,
    env: { TMPDIR: spoolTmp },
  });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe('a closed stdout ends the command quietly', () => {
  it('analyze TRACE | head -1: one line, exit 0, no stack trace, no spool file left', async () => {
    const r = await pipedToHead(['analyze', trace]);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stdout.split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/^trace /);
    expect(r.code).toBe(0);
    expect(readdirSync(spoolTmp).filter((n) => n.startsWith('exetrace-'))).toEqual([]); // tsx (unbuilt runs) keeps its own cache here
  });

  it('analyze --format json | head -1', async () => {
    const r = await pipedToHead(['analyze', trace, '--format', 'json']);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.code).toBe(0);
  });

  it('replay TRACE --speed max | head -1 (the line printer off a TTY), threaded and in-thread', async () => {
    expect([suitsWorker(trace), suitsWorker(small)]).toEqual([true, false]);
    for (const t of [trace, small]) {
      const r = await pipedToHead(['replay', t, '--speed', 'max']);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stdout).toMatch(/^# exetrace /);
      expect(r.code).toBe(0);
    }
  });

  it('a socket closed by its reader after the first bytes', async () => {
    const [node, argv] = cliCommand(['replay', trace, '--speed', 'max']);
    // execa's stdout pipe is a socketpair (libuv): destroying our end closes the socket.
    const child = execa(node, argv, { cwd: REPO_ROOT, reject: false, timeout: 60_000, buffer: { stdout: false } });
    child.stdout.once('data', () => child.stdout.destroy());
    const r = await child;
    expect(String(r.stderr)).not.toMatch(STACK);
    expect(r.exitCode).toBe(0);
  });

  it('a stdout that fails for another reason (/dev/full) is one clear line and exit 1', async () => {
    const [node, argv] = cliCommand(['analyze', trace]);
    const r = await execa('bash', ['-c', '"$@" > /dev/full', 'bash', node, ...argv], { cwd: REPO_ROOT, reject: false, timeout: 60_000 });
    expect(String(r.stderr)).toMatch(/^exetrace: writing stdout failed: .*ENOSPC/m);
    expect(String(r.stderr)).not.toMatch(/\n\s+at /);
    expect(r.exitCode).toBe(1);
  });
});
