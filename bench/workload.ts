// The exec workloads: fresh copies of true (dynamic, and a static build), shell loops of them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nowSec } from './stats.js';

export interface Binaries {
  /** A fresh copy of /bin/true (dynamically linked). */
  dynamic: string;
  /** `gcc -static -O2` of `int main(){return 0;}`, or null with the reason in staticError. */
  static: string | null;
  staticError: string | null;
  /** Execs that tell a tracer is attached (their own name, never counted as workload). */
  marker: string;
  /** For the start-up part's ticking loop. */
  tick: string;
}

export function prepareBinaries(dir: string): Binaries {
  const copy = (name: string): string => {
    const p = join(dir, name);
    copyFileSync('/bin/true', p);
    chmodSync(p, 0o755);
    return p;
  };
  const src = join(dir, 'strue.c');
  writeFileSync(src, 'int main(){return 0;}\n');
  const out = join(dir, 'bench-strue');
  const cc = spawnSync('gcc', ['-static', '-O2', '-o', out, src], { encoding: 'utf8' });
  const ok = cc.status === 0;
  return {
    dynamic: copy('bench-true'),
    static: ok ? out : null,
    staticError: ok ? null : `gcc -static failed (${cc.error?.message ?? cc.stderr.trim().split('\n').pop() ?? `exit ${cc.status}`})`,
    marker: copy('bench-marker'),
    tick: copy('bench-tick'),
  };
}

/** The loop every exec part runs (dash): the binary, n times, nothing else. */
export const LOOP = 'i=0; while [ $i -lt "$2" ]; do "$1"; i=$((i+1)); done';

/** Run `loops` parallel loops of `perLoop` execs of bin; resolves to the wall seconds. */
export async function runLoops(bin: string, loops: number, perLoop: number, onSpawn?: (shPid: number) => void): Promise<number> {
  const t0 = nowSec();
  const kids = Array.from({ length: loops }, () => spawn('/bin/sh', ['-c', LOOP, 'loop', bin, String(perLoop)], { stdio: 'ignore' }));
  for (const k of kids) if (k.pid !== undefined) onSpawn?.(k.pid);
  await Promise.all(
    kids.map(
      (k) =>
        new Promise<void>((resolve, reject) => {
          k.on('error', reject);
          k.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exec loop exited ${code}`))));
        }),
    ),
  );
  return nowSec() - t0;
}

/** A process that execs bin every ~10 ms until killed (the start-up part's "something happens"). */
export function startTicker(bin: string): ChildProcess {
  return spawn('/bin/sh', ['-c', 'while :; do "$1"; sleep 0.01; done', 'tick', bin], { stdio: 'ignore', detached: true });
}

export function stopTicker(k: ChildProcess): void {
  try {
    if (k.pid !== undefined) process.kill(-k.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}
