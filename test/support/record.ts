// Start `exetrace record` from source, wait for "exetrace: attached N probes", stop with SIGINT.
// Other live tests use it: const rec = startRecord({ out }); await rec.ready; ...; await rec.stop().
import { spawn } from 'node:child_process';
import { readTrace, type TraceRecord } from '../../src/trace/trace-reader.js';
import { spawnCli } from './cli.js';

/** Every record of a trace file. */
export async function traceRecords(path: string): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of readTrace(path)) out.push(r);
  return out;
}

/** /bin/true exec'd every `intervalS` seconds in the background, so a recording has events; returns the stop. */
export function execStorm(intervalS = 0.02): () => void {
  const child = spawn('sh', ['-c', `while :; do /bin/true; sleep ${intervalS}; done`], { stdio: 'ignore' });
  return () => child.kill('SIGKILL');
}

export interface RecordHandle {
  /** Resolves with the probe count from the attached line; rejects if record exits first or times out. */
  ready: Promise<number>;
  /** SIGINT, then wait for exit. Resolves with the exit code and all stderr/stdout. */
  stop(): Promise<{ code: number; stderr: string; stdout: string }>;
  /** Wait for record to exit on its own (e.g. with --duration). */
  exited: Promise<{ code: number; stderr: string; stdout: string }>;
  /** The record process's pid. */
  pid: number;
}

export const ATTACHED_LINE = /^exetrace: attached (\d+) probes/m;

export function startRecord(opts: { out: string; args?: readonly string[]; readyTimeoutMs?: number; env?: Record<string, string> }): RecordHandle {
  const child = spawnCli(['record', '--out', opts.out, ...(opts.args ?? [])], { buffer: false, all: false, ...(opts.env ? { env: opts.env } : {}) });
  let stderr = '';
  let stdout = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => (stdout += d));
  const exited = (async () => {
    const r = await child;
    return { code: r.exitCode ?? (r.signal ? 128 : -1), stderr, stdout };
  })();
  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`record did not attach within ${opts.readyTimeoutMs ?? 120_000} ms; stderr:\n${stderr}`)),
      opts.readyTimeoutMs ?? 120_000,
    );
    child.stderr?.on('data', (d: string) => {
      stderr += d;
      const m = ATTACHED_LINE.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then((r) => {
      clearTimeout(timer);
      reject(new Error(`record exited (code ${r.code}) before attaching; stderr:\n${r.stderr}`));
    });
  });
  ready.catch(() => {}); // the caller awaits it; avoid an unhandled rejection if it does not
  return {
    ready,
    exited,
    pid: child.pid!,
    async stop() {
      child.kill('SIGINT');
      return exited;
    },
  };
}
