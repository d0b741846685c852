// The pipeline keeps up with this machine's top exec rate: parallel shell loops of a dynamic
// binary under `record` and under `live` off a TTY lose nothing, report no parse issue, and have
// every exec in the trace; and a stop right after a burst drains the probes before signalling
// bpftrace, so the burst's tail is there too. Execs are counted by the exe's identity (dev, ino),
// never by name.
import { execa } from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/trace/events.js';
import type { TraceTrailer } from '../../src/trace/trace-format.js';
import { readTrace } from '../../src/trace/trace-reader.js';
import { spawnCli } from '../support/cli.js';
import { freshBinary, type FreshBinary } from '../support/fresh-binary.js';
import { skipLive } from '../support/live-gate.js';
import { ATTACHED_LINE, startRecord } from '../support/record.js';

interface TraceCount {
  execs: number;
  /** Of those, execs whose exe path is known (a path printed on another CPU is resolved after the CPU merge). */
  withPath: number;
  trailer: TraceTrailer | null;
  readErrors: number;
}

async function countExecs(trace: string, exe: { dev: number; ino: number }): Promise<TraceCount> {
  let execs = 0;
  let withPath = 0;
  let trailer: TraceTrailer | null = null;
  let readErrors = 0;
  for await (const r of readTrace(trace)) {
    if (r.type === 'error') readErrors++;
    else if (r.type === 'trailer') trailer = r.trailer;
    else if (r.type === 'event') {
      const e: TraceEvent = r.event;
      if (e.kind === 'exec' && e.exe?.dev === exe.dev && e.exe.ino === exe.ino) {
        execs++;
        if (e.exe.path !== null) withPath++;
      }
    }
  }
  return { execs, withPath, trailer, readErrors };
}

/** `loops` shell loops in parallel, `perLoop` execs each, of `binary`. */
async function execLoops(binary: string, loops: number, perLoop: number): Promise<void> {
  const loop = `i=0; while [ $i -lt ${perLoop} ]; do "$0"; i=$((i+1)); done`;
  await Promise.all(Array.from({ length: loops }, () => execa('sh', ['-c', loop, binary], { stdio: 'ignore' })));
}

/** A child of `parent` by comm (scan /proc). */
function childNamed(parent: number, comm: string): number | null {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && readFileSync(`/proc/${name}/comm`, 'utf8').trim() === comm) return Number(name);
    } catch {
      // raced with an exit
    }
  }
  return null;
}

function expectNothingLost(c: TraceCount, want: number): void {
  expect(c.readErrors).toBe(0);
  expect(c.trailer).not.toBeNull();
  expect(c.trailer!.lostEvents).toBe(0);
  expect(c.trailer!.parseIssues).toBe(0);
  expect(c.trailer!.incompleteEvents ?? 0).toBe(0);
  expect(c.trailer!.drain?.complete).toBe(true);
  expect(c.execs).toBe(want);
  expect(c.withPath).toBe(want);
}

describe.skipIf(skipLive())('throughput at the top exec rate (live)', () => {
  let dir: string;
  let binary: string;
  let id: { dev: number; ino: number };
  let fresh: FreshBinary;

  beforeAll(() => {
    fresh = freshBinary('exetrace-storm-', 'storm-true');
    ({ dir, binary, id } = fresh);
  });
  afterAll(() => fresh?.cleanup());

  it.each([
    [2, 10_000],
    [4, 5_000],
  ])(
    'record: %i loops of %i execs, stopped at once: every exec is in the trace, nothing lost',
    async (loops, perLoop) => {
      const out = join(dir, `record-${loops}.jsonl`);
      const rec = startRecord({ out });
      await rec.ready;
      await execLoops(binary, loops, perLoop);
      const r = await rec.stop();
      expect(r.code).toBe(0);
      expectNothingLost(await countExecs(out, id), loops * perLoop);
    },
    300_000,
  );

  it('live off a TTY (--record): 2 loops of 10,000 execs, every exec in the trace and printed', async () => {
    const out = join(dir, 'live.jsonl');
    const printed = join(dir, 'live.out');
    const child = spawnCli(['live', '--record', out], { buffer: false, stdout: { file: printed }, stderr: 'pipe' });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`live did not attach; stderr:\n${stderr}`)), 120_000);
      child.stderr!.on('data', (d: string) => {
        stderr += d;
        if (ATTACHED_LINE.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void child.then(() => reject(new Error(`live exited before attaching; stderr:\n${stderr}`)));
    });
    await execLoops(binary, 2, 10_000);
    child.kill('SIGINT');
    const r = await child;
    // Ended by SIGINT: 130, as Unix tools do (the dashboard's convention).
    expect(r.exitCode).toBe(130);
    expectNothingLost(await countExecs(out, id), 20_000);
    // The line printer printed each of those execs too (one line per event, off a TTY). EVENT is
    // the fourth column: a proc_snapshot taken at an exec ("proc_snapshot exec exe=...", when a
    // loaded host keeps the process alive long enough) is not an exec line.
    const lines = (await execa('grep', ['-cE', `^[^ ]+ +[0-9]+ +[^ ]+ +exec +.*exe=${binary} `, printed], { reject: false })).stdout;
    expect(Number(lines)).toBe(20_000);
  }, 300_000);

  it('beyond what the rings can hold, loss is counted exactly: never fewer lost than execs missing, gaps stored', async () => {
    const out = join(dir, 'tiny-ring.jsonl');
    // Small rings (a value the user exports wins), and bpftrace stopped while the loops run: the
    // kernel cannot hand the events to anyone and drops them.
    const rec = startRecord({ out, env: { BPFTRACE_PERF_RB_PAGES: '8' } });
    await rec.ready;
    const bpftrace = childNamed(rec.pid, 'bpftrace');
    expect(bpftrace).not.toBeNull();
    process.kill(bpftrace!, 'SIGSTOP');
    try {
      await execLoops(binary, 2, 2_000);
    } finally {
      process.kill(bpftrace!, 'SIGCONT');
    }
    const r = await rec.stop();
    expect(r.code).toBe(0);
    const c = await countExecs(out, id);
    expect(c.trailer).not.toBeNull();
    const t = c.trailer!;
    expect(t.lostEvents).toBeGreaterThan(0);
    // Each missing exec is a lost event (every exec prints exactly one exec head).
    expect(t.lostEvents).toBeGreaterThanOrEqual(4_000 - c.execs);
    // The trace's gap events add up to the trailer's count.
    let gaps = 0;
    for await (const rr of readTrace(out)) if (rr.type === 'event' && rr.event.kind === 'gap') gaps += rr.event.lost;
    expect(gaps).toBe(t.lostEvents);
    expect(t.drain?.complete).toBe(true);
  }, 300_000);

  it.each([
    ['batched wakeups', {}],
    ['per-event wakeups', { EXETRACE_WAKEUP_BATCHING: '0' }],
  ] as const)(
    'a burst of 1,500 execs, then SIGINT at once: all 1,500 are in the trace (drained before bpftrace is signalled), %s',
    async (name, env) => {
      const out = join(dir, `burst-${name.split(' ')[0]}.jsonl`);
      const rec = startRecord({ out, env });
      await rec.ready;
      await execLoops(binary, 2, 750);
      const r = await rec.stop();
      expect(r.code).toBe(0);
      expectNothingLost(await countExecs(out, id), 1_500);
    },
    300_000,
  );
});
