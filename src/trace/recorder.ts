// A live recording in three phases, each in its own module (as execa splits a subprocess's
// life): preflight (can it run?), session (bpftrace → decoder → ordered merge → consumers,
// with /proc snapshots in the same stream), outcome (trailer and result). Every failure ends
// as a result, with a trailer once a trace was started; nothing recorded is lost.
import type { BpftraceRunner } from './bpftrace-runner.js';
import { finishRecording } from './record/outcome.js';
import { preflight } from './record/preflight.js';
import { runSession } from './record/session.js';
import { raisePriority } from './record/priority.js';
import { emptyResult, type RecordOptions, type RecordResult, type StopReason } from './record/types.js';

export type { RecordOptions, RecordResult } from './record/types.js';

export class Recorder {
  private readonly opts: RecordOptions;
  private stopReason: StopReason | null = null;
  private runner: BpftraceRunner | null = null;

  constructor(opts: RecordOptions) {
    this.opts = opts;
  }

  /** bpftrace's pid once it runs (tests kill it to simulate a crash). */
  get bpftracePid(): number | undefined {
    return this.runner?.pid;
  }

  /** Ask the session to end; safe to call at any time and more than once. It drains first. */
  stop(reason: 'signal' | 'duration' | 'error' = 'signal'): void {
    this.stopReason ??= reason;
    void this.runner?.stop();
  }

  async run(): Promise<RecordResult> {
    const result = emptyResult();
    // The recording runs at nice -10 (priority.ts) from its start: the flavor trials and the
    // bpftrace started beside them (which inherit it) are on the path to the first event, and a
    // busy host otherwise stretches them the most.
    raisePriority();
    const pre = await preflight(this.opts, () => this.stopReason !== null);
    if (!pre.ok) return 'stopped' in pre ? { ...result, exitCode: 0 } : { ...result, error: pre.error };
    const { plan } = pre;
    result.flavor = plan.flavor;
    const session = await runSession(plan, this.opts, result, {
      onRunner: (runner) => {
        this.runner = runner;
        // A stop() that raced with construction.
        if (this.stopReason !== null) void runner.stop();
      },
      stopRequested: () => this.stopReason !== null,
      requestStop: (reason) => this.stop(reason),
    });
    return finishRecording(session, plan.writer, this.opts.out, this.stopReason);
  }
}
