// The tracers under test, each started the same way and stopped with SIGINT:
// - baseline: a one-probe bpftrace (sched_process_exec, printf pid) writing into a file;
// - exetrace `record --out`, or `live --record` off a TTY (stdout to a file), through the built CLI;
// - bare probes: bpftrace on the probe script with the argv the recorder itself used.
// "Attached" is proven the same way for all: a marker binary is exec'd every 100 ms until the
// tracer's output shows it, so nothing depends on what a given version prints at start-up.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileTail } from './file-tail.js';
import { cmdlineOf, commOf, descendants, environOf, treeCpu } from './proc.js';
import { nowSec, sleep } from './stats.js';

export const REPO = process.cwd();
export const CLI = join(REPO, 'dist/bundle/main.js');
export const BASELINE_PROGRAM = 'tracepoint:sched:sched_process_exec { printf("%d\\n", pid); }';

export type TracerKind = 'baseline' | 'record' | 'live' | 'probes' | 'publish';

export interface Session {
  kind: TracerKind;
  child: ChildProcess;
  pid: number;
  /** Where the tracer's events go: the trace (record, live) or bpftrace's stdout (baseline, probes). */
  output: string;
  /** For live: the line output on stdout. */
  stdoutPath: string;
  stderrPath: string;
  startedAt: number;
  /** Seconds from spawn until the marker showed up in the output. */
  attachSeconds: number;
  exited: Promise<number | null>;
  /** CPU seconds (utime+stime, and schedstat) of the tracer and its children, now. */
  cpu(): { stat: number; sched: number };
  /** SIGINT, then wait (SIGKILL after timeoutMs); resolves to the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface StartOptions {
  dir: string;
  name: string;
  marker: string;
  /** probes only: the bpftrace argv and environment to use. */
  probeArgv?: ProbeArgv;
  /** Give up waiting for attach after this long. */
  attachTimeoutMs?: number;
  /** Do not wait for attach (the start-up part watches for itself). */
  noWait?: boolean;
  /** publish only: `record --publish` to this NATS address under this host name. */
  publish?: { url: string; hostname: string };
}

export interface ProbeArgv {
  args: string[];
  env: Record<string, string>;
}

function command(kind: TracerKind, output: string, o: StartOptions): { file: string; args: string[]; env?: Record<string, string> } {
  switch (kind) {
    case 'baseline':
      return { file: 'bpftrace', args: ['-e', BASELINE_PROGRAM] };
    case 'record':
      return { file: process.execPath, args: [CLI, 'record', '--out', output, '--quiet'] };
    case 'publish':
      if (!o.publish) throw new Error('publish tracer needs a NATS address');
      return { file: process.execPath, args: [CLI, 'record', '--out', output, '--quiet', '--publish', o.publish.url, '--hostname', o.publish.hostname] };
    case 'live':
      return { file: process.execPath, args: [CLI, 'live', '--record', output] };
    case 'probes':
      if (!o.probeArgv) throw new Error('probes tracer needs the recorder argv');
      return { file: 'bpftrace', args: o.probeArgv.args, env: o.probeArgv.env };
  }
}

/** Does the new output show one of the marker execs? */
function markerSeen(kind: TracerKind, text: string, markerPids: number[], markerName: string): boolean {
  // An exec event, not a start-up /proc snapshot that happened to catch a marker running.
  if (kind === 'record' || kind === 'live' || kind === 'publish') return text.split('\n').some((l) => l.includes(markerName) && l.includes('"kind":"exec'));
  return markerPids.some((p) => new RegExp(`(^|[^0-9])${p}([^0-9]|$)`, 'm').test(text));
}

/** Start and prove attached; a tracer that dies before attaching is retried once (and said so). */
export async function startTracer(kind: TracerKind, o: StartOptions): Promise<Session> {
  try {
    return await startOnce(kind, o);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}; retrying once\n`);
    retries.push(`${o.name}: ${(err as Error).message}`);
    return startOnce(kind, { ...o, name: `${o.name}-retry` });
  }
}

/** Tracers that had to be started twice in this run (shown in the report). */
export const retries: string[] = [];

async function startOnce(kind: TracerKind, o: StartOptions): Promise<Session> {
  const stem = join(o.dir, o.name);
  const bpfOut = kind === 'baseline' || kind === 'probes';
  const output = bpfOut ? `${stem}.out` : `${stem}.trace.jsonl`;
  const stdoutPath = bpfOut ? output : `${stem}.stdout`;
  const stderrPath = `${stem}.stderr`;
  const { file, args, env } = command(kind, output, o);
  const outFd = openSync(stdoutPath, 'w');
  const errFd = openSync(stderrPath, 'w');
  const startedAt = nowSec();
  const child = spawn(file, args, { stdio: ['ignore', outFd, errFd], env: { ...process.env, ...env }, cwd: REPO });
  closeSync(outFd);
  closeSync(errFd);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? -1 : null))));
  let gone = false;
  void exited.then(() => (gone = true));
  const pid = child.pid!;
  const s: Session = {
    kind,
    child,
    pid,
    output,
    stdoutPath,
    stderrPath,
    startedAt,
    attachSeconds: Number.NaN,
    exited,
    cpu: () => treeCpu(pid),
    async stop(timeoutMs = 60_000) {
      if (!gone) child.kill('SIGINT');
      const t = setTimeout(() => {
        if (!gone) {
          for (const p of descendants(pid))
            try {
              process.kill(p, 'SIGKILL');
            } catch {
              /* gone */
            }
          child.kill('SIGKILL');
        }
      }, timeoutMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
  if (o.noWait) return s;

  const tail = new FileTail(output);
  const markerName = o.marker.slice(o.marker.lastIndexOf('/') + 1);
  const markerPids: number[] = [];
  const deadline = startedAt + (o.attachTimeoutMs ?? 90_000) / 1000;
  let lastMarker = 0;
  let carry = '';
  while (!gone) {
    const text = carry + tail.read();
    if (markerSeen(kind, text, markerPids, markerName)) {
      s.attachSeconds = nowSec() - startedAt;
      return s;
    }
    carry = text.slice(-4096);
    if (nowSec() > deadline) break;
    if (nowSec() - lastMarker > 0.1) {
      lastMarker = nowSec();
      const m = spawn(o.marker, [], { stdio: 'ignore' });
      if (m.pid !== undefined) markerPids.push(m.pid);
    }
    await sleep(20);
  }
  await s.stop(5000);
  const why = readFileSync(stderrPath, 'utf8').trim().split('\n').slice(-2).join(' / ');
  throw new Error(`${kind} never showed the marker exec (${gone ? 'it exited' : 'timed out'}): ${why}`);
}

/** The bpftrace the recorder runs under it: its argv (after the program name) and BPFTRACE_* env. */
export function recorderBpftrace(s: Session): ProbeArgv | null {
  for (const p of descendants(s.pid)) {
    if (commOf(p) !== 'bpftrace') continue;
    const argv = cmdlineOf(p);
    if (!argv || !argv.some((a) => a.endsWith('.bt'))) continue;
    const env = Object.fromEntries(Object.entries(environOf(p)).filter(([k]) => k.startsWith('BPFTRACE_')));
    return { args: argv.slice(1), env };
  }
  return null;
}

/** Wait until the tracer's CPU stops growing (it has drained its backlog), at most maxMs. */
export async function waitIdle(s: Session, maxMs = 20_000, quietMs = 600): Promise<number> {
  const t0 = nowSec();
  let last = s.cpu().sched;
  let quietSince = nowSec();
  while (nowSec() - t0 < maxMs / 1000) {
    await sleep(150);
    const c = s.cpu().sched;
    // Less than 3% of one core since the last look counts as idle.
    if (c - last > 0.15 * 0.03) quietSince = nowSec();
    last = c;
    if (nowSec() - quietSince >= quietMs / 1000) break;
  }
  return nowSec() - t0;
}
