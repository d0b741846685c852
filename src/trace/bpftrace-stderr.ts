// What bpftrace's stderr says about why it failed, as one typed error. Shared by the runner
// (a recording) and the flavor ladder (trial programs).

export type RunnerErrorKind = 'not-found' | 'not-root' | 'attach-failed' | 'compile-failed' | 'exited' | 'spawn-failed';

export interface RunnerError {
  kind: RunnerErrorKind;
  /** One line for the user. */
  shortMessage: string;
  /** The evidence: bpftrace's own error lines, exit code or errno. */
  cause: string;
  /** The probe that failed to attach, when bpftrace named one. */
  probe?: string;
}

/** bpftrace 0.17 prints this at every start; it is harmless (see DEVELOPERS.md). */
export const isHarmlessStderr = (line: string): boolean => /RLIMIT_MEMLOCK/.test(line) || line.trim() === '';

/**
 * Read bpftrace's stderr for the reason it failed. Messages measured with 0.17 on 6.18:
 * "ERROR: bpftrace currently only supports running as the root user.",
 * "ERROR: Error attaching probe: 'kprobe:do_nanosleep'",
 * "stdin:1:1-32: ERROR: tracepoint not found: sched:nonexistent_tp",
 * "stdin:1:1-15: ERROR: kfunc/kretfunc not available for your kernel version."
 * and with 0.23.2 on 6.18 (the others unchanged):
 * "ERROR: Error attaching probe: kprobe:mmput" (no quotes),
 * "stdin:1:1-13: ERROR: fentry/fexit not available for your kernel version.",
 * "prog.bt:32-36: ERROR: fentry:begin_new_exec: could not read traceable functions from
 * /sys/kernel/tracing/available_filter_functions (is tracefs mounted?)" (a line range, no column).
 */
export function classifyStderr(lines: readonly string[]): RunnerError | null {
  const relevant = lines.filter((l) => !isHarmlessStderr(l));
  for (const line of relevant) {
    if (/only supports running as the root user/.test(line)) {
      return { kind: 'not-root', shortMessage: 'bpftrace needs root: run exetrace as root (sudo)', cause: line.trim() };
    }
  }
  for (const line of relevant) {
    const attach = /Error attaching probe: (?:'([^']+)'|(\S+))/.exec(line);
    if (attach) {
      const probe = attach[1] ?? attach[2]!;
      return { kind: 'attach-failed', shortMessage: `probe ${probe} failed to attach`, cause: relevant.join('\n'), probe };
    }
    const tp = /ERROR: tracepoint not found: (\S+)/.exec(line);
    if (tp) {
      return { kind: 'attach-failed', shortMessage: `tracepoint:${tp[1]} does not exist on this kernel`, cause: line.trim(), probe: `tracepoint:${tp[1]}` };
    }
    const kfunc =
      /^(?:.*?:\d+(?::\d+)?(?:-\d+)?: )?ERROR: ((?:kfunc\/kretfunc|fentry\/fexit) not available.*|(?:fentry|fexit|kfunc|kretfunc):\S+: could not read traceable functions.*)$/.exec(
        line,
      );
    if (kfunc) {
      return { kind: 'attach-failed', shortMessage: 'kfunc (fentry) probes cannot load on this kernel', cause: kfunc[1]!, probe: 'kfunc' };
    }
  }
  // A compile error is reported as FILE:LINE:COL: ERROR: ... followed by the source and a ~~~ marker.
  for (const line of relevant) {
    const loc = /^(.*?:\d+(?::\d+)?(?:-\d+)?): ERROR: (.*)$/.exec(line);
    if (loc) return { kind: 'compile-failed', shortMessage: `bpftrace rejected the program at ${loc[1]}: ${loc[2]}`, cause: relevant.join('\n') };
  }
  const err = relevant.find((l) => /ERROR/.test(l));
  if (err) return { kind: 'compile-failed', shortMessage: `bpftrace failed: ${err.replace(/^ERROR:\s*/, '')}`, cause: relevant.join('\n') };
  return null;
}
