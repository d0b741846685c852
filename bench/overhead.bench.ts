// Tracing overhead on the workload exetrace watches most: exec. Runs the same exec loop with and
// without `exetrace record` attached, alternating to spread the host's noise over both sides,
// and reports the traced rate as a ratio of the untraced rate (one run; never bare times).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/trace/probe-program.js';

export interface OverheadBenchResult {
  execsPerRound: number;
  rounds: number;
  /** traced exec rate / untraced exec rate (1.0 = no overhead). */
  tracedToBaseRatio: number;
  eventsRecorded: number;
}

const LOOP = 'i=0; while [ $i -lt "$1" ]; do /bin/true; i=$((i+1)); done';

function execLoopSeconds(n: number): number {
  const t = process.hrtime.bigint();
  execFileSync('/bin/sh', ['-c', LOOP, 'loop', String(n)]);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function startRecorder(out: string): Promise<{ stop: () => Promise<void> }> {
  const cli = join(packageRoot(), 'dist/src/cli/main.js');
  const child = spawn(process.execPath, [cli, 'record', '--out', out, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (/exetrace: attached \d+ probes/.test(stderr)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`record exited early (${code}): ${stderr}`)));
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        child.removeAllListeners('exit');
        child.on('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}

export async function runOverheadBench(execsPerRound = 1500, rounds = 3): Promise<OverheadBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'exetrace-bench-'));
  try {
    execLoopSeconds(200);
    let base = 0;
    let traced = 0;
    let eventsRecorded = 0;
    for (let r = 0; r < rounds; r++) {
      base += execLoopSeconds(execsPerRound);
      const out = join(dir, `round${r}.jsonl`);
      const rec = await startRecorder(out);
      traced += execLoopSeconds(execsPerRound);
      await rec.stop();
      eventsRecorded += Number(execFileSync('wc', ['-l', out]).toString().trim().split(/\s+/)[0]);
    }
    return { execsPerRound, rounds, tracedToBaseRatio: base / traced, eventsRecorded };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
