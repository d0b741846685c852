// Runs bpftrace (bpftrace-process.ts starts it, or hands over one started earlier), splits its
// stdout into lines for a decoder, and turns its stderr and exit into results. Failures are
// values ({shortMessage, cause}), never throws: the recorder must keep what it has when
// bpftrace fails at any point.
import { readdirSync, readlinkSync } from 'node:fs';
import { onlineCpus } from '../kernel/cpus.js';
import { classifyStderr, isHarmlessStderr, type RunnerError } from './bpftrace-stderr.js';
import type { DecodeOutput } from './decoder.js';
import { spawnBpftrace, type BpftraceChild, type BpftraceProcess, type SpawnOptions } from './bpftrace-process.js';
import type { PolledFifo } from './polled-fifo.js';

export type { RunnerError };

export interface LineDecoder {
  push(line: string, lineNo: number): DecodeOutput[];
  flush(): DecodeOutput[];
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

export interface RunnerOptions extends SpawnOptions {
  decoder: LineDecoder;
  onOutput(out: DecodeOutput): void;
  /** bpftrace already started with these options (spawnBpftrace); otherwise the runner starts it. */
  started?: BpftraceProcess;
  /** Fallback when attach fds cannot be counted: confirm after this long with stable fds (ms). */
  attachConfirmMs?: number;
  /**
   * stop() waits for the drain markers as long as bpftrace is still delivering lines (it may be
   * seconds behind); after this long with no line at all it signals anyway (ms).
   */
  drainIdleMs?: number;
}

/** The probes' control channel: a readlink by the collector of one of these paths (see tracepoint.bt). */
const CONTROL_PATH = { drain: '/exetrace-ctl/drain', forget: '/exetrace-ctl/forget' } as const;
/** A drain request not answered by every CPU by then is sent again (its marker may have been dropped). */
const DRAIN_REASK_MS = 2000;
/**
 * The probes' ticks keep bpftrace's output going, so "silent" alone would never end a drain
 * whose markers keep being dropped; past this the stop goes on, recorded as an incomplete drain.
 */
const DRAIN_MAX_MS = 120_000;

/** Whether stop() found every event produced before it (drain markers from every CPU). */
export interface DrainOutcome {
  complete: boolean;
  /** CPUs that answered, of those online. */
  answered: number;
  expected: number;
  waitedMs: number;
}

export class BpftraceRunner {
  private readonly child: BpftraceChild;
  /** bpftrace's stdout, read every few ms (null: a plain pipe, where no FIFO could be made). */
  private readonly fifo: PolledFifo | null;
  private readonly opts: RunnerOptions;
  private stopping = false;
  private killedHard = false;
  private stderrLines: string[] = [];
  private stdoutLines = 0;
  private attachedResolve!: (probes: number) => void;
  private attachedSeen = false;
  private attachConfirmed = false;
  private exited = false;
  private drainRequests = 0;
  private drainWaiter: { request: number; cpus: Set<number>; done: () => void } | null = null;
  private lastForget = 0;
  /** Set by stop() when bpftrace was running and attached; `done` waits for it. */
  drain: DrainOutcome | null = null;
  private draining: Promise<void> | null = null;
  private stdoutDone: Promise<void> = Promise.resolve();
  private lastLineAt = Date.now();
  /** Resolves with the probe count once the attach is confirmed, 0 if it never is; never rejects. */
  readonly attached: Promise<number>;
  /** Resolves when bpftrace is gone and every line was decoded. */
  readonly done: Promise<RunnerResult>;

  constructor(opts: RunnerOptions) {
    this.opts = opts;
    this.attached = new Promise((resolve) => (this.attachedResolve = resolve));
    const started = opts.started ?? spawnBpftrace(opts);
    this.child = started.child;
    this.fifo = started.fifo;
    this.done = this.run();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private emit(outs: DecodeOutput[]): void {
    for (const out of outs) {
      if (out.type === 'attached' && !this.attachedSeen) this.confirmAttach(out.probes);
      if (out.type === 'drained') this.onDrained(out.request, out.cpu);
      this.opts.onOutput(out);
    }
  }

  /** Ask the probes to print every file path again (a record carrying one was lost). At most twice a second. */
  requestForget(): void {
    const now = Date.now();
    if (now - this.lastForget < 500) return;
    this.lastForget = now;
    control('forget');
  }

  private onDrained(request: number, cpu: number): void {
    const w = this.drainWaiter;
    if (w === null || request < w.request) return;
    w.cpus.delete(cpu);
    if (w.cpus.size === 0) w.done();
  }

  /**
   * Every CPU prints a marker after this request; perf rings are FIFO per CPU, so once all
   * markers are decoded, every event produced before the request has been too.
   */
  private async drainOutput(idleMs: number): Promise<DrainOutcome> {
    const cpus = onlineCpus();
    const expected = cpus.size;
    const started = Date.now();
    const request = ++this.drainRequests;
    let timer: NodeJS.Timeout | undefined;
    let askedAt = started;
    const answered = new Promise<boolean>((resolve) => {
      this.drainWaiter = { request, cpus, done: () => resolve(true) };
      // A backlog takes as long as it takes; only a silent bpftrace ends the wait.
      timer = setInterval(() => {
        const now = Date.now();
        if (now - this.lastLineAt > idleMs || now - started > DRAIN_MAX_MS) {
          resolve(false);
          return;
        }
        // A marker meets a full ring like any event and is dropped: ask again. A later
        // request's marker proves the same (onDrained takes any request from this one on).
        if (now - askedAt >= DRAIN_REASK_MS) {
          askedAt = now;
          this.drainRequests++;
          control('drain');
        }
      }, 100);
      // bpftrace gone (killed meanwhile) and its last line read: no marker can come any more.
      void this.stdoutDone.then(() => resolve(false));
    });
    this.lastLineAt = Date.now();
    control('drain');
    const complete = await answered;
    clearInterval(timer);
    this.drainWaiter = null;
    return { complete, answered: expected - cpus.size, expected, waitedMs: Date.now() - started };
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
    const onStdoutLine = (line: string): void => {
      this.stdoutLines++;
      this.lastLineAt = Date.now();
      this.emit(this.opts.decoder.push(line, this.stdoutLines));
    };
    const stdoutDone = this.fifo !== null ? splitLines((on) => this.fifo!.read(on), onStdoutLine) : this.readLines(this.child.stdout, onStdoutLine);
    this.stdoutDone = stdoutDone;
    const stderrDone = this.readLines(this.child.stderr, (line) => {
      if (!isHarmlessStderr(line)) this.stderrLines.push(line);
    });
    const res = await this.child;
    this.exited = true;
    await Promise.all([stdoutDone, stderrDone]);
    this.emit(this.opts.decoder.flush());
    // A drain cut short (bpftrace killed) still reports how far it got before `done` resolves.
    if (this.draining) await this.draining;
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
      return (
        fromStderr ?? {
          kind: 'exited',
          shortMessage: `bpftrace exited before attaching (${describeExit(r)})`,
          cause: this.stderrLines.join('\n') || describeExit(r),
        }
      );
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
    await splitLines(async (onChunk) => {
      for await (const chunk of stream as AsyncIterable<string>) onChunk(chunk);
    }, onLine);
  }

  /**
   * Drain (when attached), then SIGINT (bpftrace's clean stop), then SIGKILL after timeoutMs.
   * bpftrace 0.17 discards what is still unread in its rings at SIGINT, so signalling first
   * would silently drop the tail of a burst. Resolves with the result.
   */
  async stop(timeoutMs = 5000): Promise<RunnerResult> {
    if (!this.stopping) {
      // Already gone on its own: that stays an unexpected exit, not our stop.
      if (this.child.exitCode === null && this.child.signalCode === null) {
        this.stopping = true;
        if (this.attachConfirmed) {
          this.draining = this.drainOutput(this.opts.drainIdleMs ?? 3000).then((d) => {
            this.drain = d;
          });
          await this.draining;
        }
        if (this.child.exitCode !== null || this.child.signalCode !== null) return this.done;
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

/** Text chunks from `read` cut into lines for `onLine`. */
async function splitLines(read: (onChunk: (text: string) => void) => Promise<void>, onLine: (line: string) => void): Promise<void> {
  let rest = '';
  await read((chunk) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) onLine(p);
  });
  // A last line without newline (bpftrace killed mid-write) still goes to the decoder,
  // which reports it as a parse issue if it is incomplete.
  if (rest !== '') onLine(rest);
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

/** A request to the probes: a readlink of a control path by this process (it fails with ENOENT). */
function control(what: keyof typeof CONTROL_PATH): void {
  try {
    readlinkSync(CONTROL_PATH[what]);
  } catch {
    // ENOENT is the expected answer; the probe saw the call.
  }
}
