// Runs bpftrace through execa, splits its stdout into lines for a decoder, and turns its
// stderr and exit into results. Failures are values ({shortMessage, cause}), never throws:
// the recorder must keep what it has when bpftrace fails at any point.
import { accessSync, constants, readdirSync, readlinkSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import type { ParseIssue } from './consumer.js';
import type { TraceEvent } from './events.js';

/** What a decoder yields (structurally the same as decoder.ts's DecodeOutput). */
export type RunnerOutput =
  | { type: 'event'; event: TraceEvent }
  | { type: 'issue'; issue: ParseIssue }
  | { type: 'attached'; probes: number };

export interface LineDecoder {
  push(line: string, lineNo: number): RunnerOutput[];
  flush(): RunnerOutput[];
}

export type RunnerErrorKind =
  | 'not-found'
  | 'not-root'
  | 'attach-failed'
  | 'compile-failed'
  | 'exited'
  | 'spawn-failed';

export interface RunnerError {
  kind: RunnerErrorKind;
  /** One line for the user. */
  shortMessage: string;
  /** The evidence: bpftrace's own error lines, exit code or errno. */
  cause: string;
  /** The probe that failed to attach, when bpftrace named one. */
  probe?: string;
}

export interface RunnerResult {
  exitCode: number | null;
  signal: string | null;
  /** True when the run ended because stop() was called. */
  stoppedByUs: boolean;
  /** True when stop() had to SIGKILL after the timeout. */
  killed: boolean;
  error: RunnerError | null;
  /** stderr lines except the harmless RLIMIT_MEMLOCK notice. */
  stderr: string[];
  stdoutLines: number;
}

export interface RunnerOptions {
  /** bpftrace's whole argv (probe-program.ts builds it); must select `-f json` output. */
  args: readonly string[];
  decoder: LineDecoder;
  onOutput(out: RunnerOutput): void;
  bpftrace?: string;
  /** Fallback when attach fds cannot be counted: confirm after this long with stable fds (ms). */
  attachConfirmMs?: number;
  /** Do not wrap bpftrace in `setpriv --pdeathsig KILL` (on by default when setpriv exists). */
  noDeathSignal?: boolean;
  /** Extra environment (e.g. BPFTRACE_STRLEN). */
  env?: Record<string, string>;
}

/** bpftrace 0.17 prints this at every start; it is harmless (see DEVELOPERS.md). */
export const isHarmlessStderr = (line: string): boolean => /RLIMIT_MEMLOCK/.test(line) || line.trim() === '';

/**
 * Read bpftrace's stderr for the reason it failed. Messages measured with 0.17 on 6.18:
 * "ERROR: bpftrace currently only supports running as the root user.",
 * "ERROR: Error attaching probe: 'kprobe:do_nanosleep'",
 * "stdin:1:1-32: ERROR: tracepoint not found: sched:nonexistent_tp",
 * "stdin:1:1-15: ERROR: kfunc/kretfunc not available for your kernel version."
 */
export function classifyStderr(lines: readonly string[]): RunnerError | null {
  const relevant = lines.filter((l) => !isHarmlessStderr(l));
  for (const line of relevant) {
    if (/only supports running as the root user/.test(line)) {
      return { kind: 'not-root', shortMessage: 'bpftrace needs root: run exetrace as root (sudo)', cause: line.trim() };
    }
  }
  for (const line of relevant) {
    const attach = /Error attaching probe: '([^']+)'/.exec(line);
    if (attach) {
      return { kind: 'attach-failed', shortMessage: `probe ${attach[1]} failed to attach`, cause: relevant.join('\n'), probe: attach[1]! };
    }
    const tp = /ERROR: tracepoint not found: (\S+)/.exec(line);
    if (tp) {
      return { kind: 'attach-failed', shortMessage: `tracepoint:${tp[1]} does not exist on this kernel`, cause: line.trim(), probe: `tracepoint:${tp[1]}` };
    }
    const kfunc = /^(?:.*?:\d+:\d+(?:-\d+)?: )?ERROR: (kfunc\/kretfunc not available.*)$/.exec(line);
    if (kfunc) {
      return { kind: 'attach-failed', shortMessage: 'kfunc (fentry) probes cannot load on this kernel', cause: kfunc[1]!, probe: 'kfunc' };
    }
  }
  // A compile error is reported as FILE:LINE:COL: ERROR: ... followed by the source and a ~~~ marker.
  for (const line of relevant) {
    const loc = /^(.*?:\d+:\d+(?:-\d+)?): ERROR: (.*)$/.exec(line);
    if (loc) return { kind: 'compile-failed', shortMessage: `bpftrace rejected the program at ${loc[1]}: ${loc[2]}`, cause: relevant.join('\n') };
  }
  const err = relevant.find((l) => /ERROR/.test(l));
  if (err) return { kind: 'compile-failed', shortMessage: `bpftrace failed: ${err.replace(/^ERROR:\s*/, '')}`, cause: relevant.join('\n') };
  return null;
}

export class BpftraceRunner {
  private readonly child: ResultPromise<{ reject: false; buffer: false; stdin: 'ignore'; detached: true }>;
  private readonly opts: RunnerOptions;
  private stopping = false;
  private killedHard = false;
  private stderrLines: string[] = [];
  private stdoutLines = 0;
  private attachedResolve!: (probes: number) => void;
  private attachedSeen = false;
  private attachConfirmed = false;
  private exited = false;
  /** Resolves with the probe count once the attach is confirmed, 0 if it never is; never rejects. */
  readonly attached: Promise<number>;
  /** Resolves when bpftrace is gone and every line was decoded. */
  readonly done: Promise<RunnerResult>;

  constructor(opts: RunnerOptions) {
    this.opts = opts;
    this.attached = new Promise((resolve) => (this.attachedResolve = resolve));
    // detached: a terminal Ctrl-C reaches only exetrace, which then stops bpftrace itself
    // (otherwise bpftrace could exit first and look like a crash).
    // setpriv --pdeathsig: if exetrace itself is killed (kill -9, OOM), the kernel kills
    // bpftrace too; otherwise it was measured to linger with its probes attached. setpriv
    // execs bpftrace, so the pid stays bpftrace's.
    const bpftrace = opts.bpftrace ?? 'bpftrace';
    const setpriv = opts.noDeathSignal ? null : findSetpriv();
    const [file, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', bpftrace, ...opts.args]] : [bpftrace, [...opts.args]];
    this.child = execa(file, argv, {
      reject: false,
      buffer: false,
      stdin: 'ignore',
      detached: true,
      env: opts.env ?? {},
    });
    this.done = this.run();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private emit(outs: RunnerOutput[]): void {
    for (const out of outs) {
      if (out.type === 'attached' && !this.attachedSeen) this.confirmAttach(out.probes);
      this.opts.onOutput(out);
    }
  }

  /**
   * bpftrace 0.17 prints attached_probes *before* attaching (measured: a failing kprobe prints
   * it, then "Error attaching probe"; 30 tracepoints then take ~150 ms idle, seconds on a busy
   * host). So the count is only a claim. Each attached probe holds a perf_event or bpf-link fd:
   * confirm once bpftrace holds at least that many and the number has been stable for
   * 100 ms (or stable for 1 s if its fds are never that many, e.g. another bpftrace version).
   */
  private confirmAttach(probes: number): void {
    this.attachedSeen = true;
    const started = Date.now();
    let last = -1;
    let stableSince = Date.now();
    const timer = setInterval(() => {
      if (this.exited || classifyStderr(this.stderrLines) !== null) {
        clearInterval(timer);
        return;
      }
      const n = this.pid === undefined ? -1 : countAttachFds(this.pid);
      const now = Date.now();
      if (n !== last) {
        last = n;
        stableSince = now;
        return;
      }
      const stableMs = now - stableSince;
      if ((n >= probes && stableMs >= 100) || (now - started >= (this.opts.attachConfirmMs ?? 1000) && stableMs >= 1000)) {
        clearInterval(timer);
        this.attachConfirmed = true;
        this.attachedResolve(probes);
      }
    }, 25);
    timer.unref();
  }

  private async run(): Promise<RunnerResult> {
    const stdoutDone = this.readLines(this.child.stdout, (line) => {
      this.stdoutLines++;
      this.emit(this.opts.decoder.push(line, this.stdoutLines));
    });
    const stderrDone = this.readLines(this.child.stderr, (line) => {
      if (!isHarmlessStderr(line)) this.stderrLines.push(line);
    });
    const res = await this.child;
    this.exited = true;
    await Promise.all([stdoutDone, stderrDone]);
    this.emit(this.opts.decoder.flush());
    if (!this.attachConfirmed) this.attachedResolve(0);
    const result: RunnerResult = {
      exitCode: res.exitCode ?? null,
      signal: res.signal ?? null,
      stoppedByUs: this.stopping,
      killed: this.killedHard,
      error: null,
      stderr: this.stderrLines,
      stdoutLines: this.stdoutLines,
    };
    result.error = this.diagnose(res, result);
    return result;
  }

  private diagnose(res: { code?: string; failed: boolean; shortMessage?: string }, r: RunnerResult): RunnerError | null {
    const viaSetprivMissing = r.exitCode === 127 && this.stderrLines.some((l) => /^setpriv: failed to execute .*No such file/.test(l));
    if (res.code === 'ENOENT' || viaSetprivMissing) {
      return { kind: 'not-found', shortMessage: 'bpftrace not found; apt-get install bpftrace', cause: res.shortMessage ?? 'ENOENT' };
    }
    if (res.code !== undefined && r.exitCode === null && r.signal === null) {
      return { kind: 'spawn-failed', shortMessage: `cannot start bpftrace (${res.code})`, cause: res.shortMessage ?? res.code };
    }
    const fromStderr = classifyStderr(this.stderrLines);
    if (!this.attachConfirmed) {
      if (this.stopping && fromStderr === null) return null; // stopped before the confirm timer
      return fromStderr ?? {
        kind: 'exited',
        shortMessage: `bpftrace exited before attaching (${describeExit(r)})`,
        cause: this.stderrLines.join('\n') || describeExit(r),
      };
    }
    if (this.stopping) return null;
    return {
      kind: 'exited',
      shortMessage: `bpftrace exited unexpectedly during the run (${describeExit(r)}) after ${r.stdoutLines} output lines`,
      cause: fromStderr?.cause ?? (this.stderrLines.join('\n') || describeExit(r)),
    };
  }

  private async readLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): Promise<void> {
    if (stream === null) return;
    // bpftrace's JSON output is ASCII (it escapes bytes >= 0x80); stderr may not be, latin1 keeps bytes.
    stream.setEncoding('latin1');
    let rest = '';
    for await (const chunk of stream as AsyncIterable<string>) {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) onLine(p);
    }
    // A last line without newline (bpftrace killed mid-write) still goes to the decoder,
    // which reports it as a parse issue if it is incomplete.
    if (rest !== '') onLine(rest);
  }

  /** SIGINT (bpftrace's clean stop), then SIGKILL after timeoutMs. Resolves with the result. */
  async stop(timeoutMs = 5000): Promise<RunnerResult> {
    if (!this.stopping) {
      // Already gone on its own: that stays an unexpected exit, not our stop.
      if (this.child.exitCode === null && this.child.signalCode === null) {
        this.stopping = true;
        this.child.kill('SIGINT');
        const timer = setTimeout(() => {
          this.killedHard = true;
          this.child.kill('SIGKILL');
        }, timeoutMs);
        void this.done.finally(() => clearTimeout(timer));
      }
    }
    return this.done;
  }
}

function describeExit(r: { exitCode: number | null; signal: string | null }): string {
  return r.signal !== null ? `signal ${r.signal}` : `exit code ${r.exitCode ?? '?'}`;
}

/** fds of `pid` that hold an attached probe (perf_event for tracepoints/kprobes, bpf-link for fentry). */
export function countAttachFds(pid: number): number {
  let n = 0;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target === 'anon_inode:[perf_event]' || target === 'anon_inode:bpf_link' || target === 'anon_inode:bpf-link') n++;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return -1;
  }
  return n;
}

/** util-linux setpriv (Debian: always installed), or null. */
function findSetpriv(): string | null {
  for (const p of ['/usr/bin/setpriv', '/bin/setpriv']) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // try the next
    }
  }
  return null;
}
