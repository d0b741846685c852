// Picks the probe flavor by trying what loads on this kernel, best first: kfunc (fentry,
// BTF, cheapest), then kprobe, then tracepoint. Each trial is a tiny fixed bpftrace program
// (no user input) that attaches one probe and exits from BEGIN, which fires only after every
// probe attached. Nothing is cached: the answer can change with a reboot or a new kernel.
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import type { BpftraceDialect } from './bpftrace-dialect.js';
import { classifyStderr, isHarmlessStderr } from './bpftrace-stderr.js';
import type { Flavor } from './trace-format.js';
import { DEFAULT_VARIANT, probeScriptPath } from './probe-program.js';

export type FlavorRequest = Flavor | 'auto';

/** Ladder order: cheapest and most precise first. */
export const LADDER: readonly Flavor[] = ['kfunc', 'kprobe', 'tracepoint'];

/**
 * Trial programs, in each dialect's spelling (0.20+ names kfunc fentry). mmput exists on every
 * kernel exetrace supports; the tracepoint trial attaches the one tracepoint the tracepoint
 * flavor needs that older kernels lack, sched_prepare_exec (6.8+).
 */
export const TRIAL_PROGRAMS: Record<BpftraceDialect, Record<Flavor, string>> = {
  '0.17': {
    kfunc: 'kfunc:mmput { } BEGIN { exit(); }',
    kprobe: 'kprobe:mmput { } BEGIN { exit(); }',
    tracepoint: 'tracepoint:sched:sched_prepare_exec { } BEGIN { exit(); }',
  },
  '0.23': {
    kfunc: 'fentry:mmput { } BEGIN { exit(); }',
    kprobe: 'kprobe:mmput { } BEGIN { exit(); }',
    tracepoint: 'tracepoint:sched:sched_prepare_exec { } BEGIN { exit(); }',
  },
};

/** A trial takes 0.05-0.3 s here, but over 15 s was seen in a TCG guest on a loaded host. */
const TRIAL_TIMEOUT_MS = 60_000;

export interface FlavorTrial {
  flavor: Flavor;
  loads: boolean;
  /** Why it does or does not load, in bpftrace's words where it gave some. */
  reason: string;
}

export interface LadderResult {
  chosen: Flavor | null;
  reason: string;
  trials: FlavorTrial[];
}

/** Run one trial program; it loads when bpftrace exits 0 from BEGIN with no error. */
export async function tryFlavor(flavor: Flavor, opts: { bpftrace?: string; timeoutMs?: number; dialect?: BpftraceDialect } = {}): Promise<FlavorTrial> {
  const program = TRIAL_PROGRAMS[opts.dialect ?? '0.17'][flavor];
  const res = await execa(opts.bpftrace ?? 'bpftrace', ['-f', 'json', '-e', program], {
    reject: false,
    stdin: 'ignore',
    timeout: opts.timeoutMs ?? TRIAL_TIMEOUT_MS,
  });
  if (res.code === 'ENOENT') return { flavor, loads: false, reason: 'bpftrace not found; apt-get install bpftrace' };
  if (res.timedOut) return { flavor, loads: false, reason: `trial program did not finish within ${opts.timeoutMs ?? TRIAL_TIMEOUT_MS} ms` };
  const stderr = String(res.stderr ?? '').split('\n');
  const err = classifyStderr(stderr);
  if (res.exitCode === 0 && err === null && /"attached_probes"/.test(String(res.stdout))) {
    return { flavor, loads: true, reason: `a ${flavor} probe attached (${program.split(' ')[0]})` };
  }
  const why =
    err?.shortMessage ??
    (stderr
      .filter((l) => !isHarmlessStderr(l))
      .join(' ')
      .trim() ||
      `bpftrace exited with ${res.exitCode ?? res.signal}`);
  const detail =
    err?.kind === 'attach-failed' && err.cause.includes('kprobe_events')
      ? ' (no kprobe_events: kernel built without kprobes)'
      : err?.probe === 'kfunc'
        ? ` (bpftrace: ${err.cause})`
        : err?.probe === 'tracepoint:sched:sched_prepare_exec'
          ? ' (the tracepoint flavor needs sched_prepare_exec: Linux 6.8 or later)'
          : '';
  return { flavor, loads: false, reason: `${why}${detail}` };
}

/**
 * Resolve a --flavor request. 'auto' walks the ladder and takes the first flavor that loads
 * and has a probe script in this build; an explicit flavor is still tried, so a wrong choice
 * fails here with bpftrace's reason rather than mid-start. Trials already run (doctor runs
 * them all) can be passed in.
 */
export async function pickFlavor(
  request: FlavorRequest,
  opts: { bpftrace?: string; timeoutMs?: number; trials?: readonly FlavorTrial[]; untriedLast?: boolean; dialect?: BpftraceDialect } = {},
): Promise<LadderResult> {
  const candidates = request === 'auto' ? LADDER : [request];
  // The trials run at once (each is a separate bpftrace); the ladder's order decides.
  // `untriedLast`: the recorder loads the real program next, which is the last rung's trial
  // too (its failure is reported with bpftrace's reason), so that rung skips the extra start.
  const trials = await Promise.all(
    candidates.map(async (flavor, i): Promise<FlavorTrial> => {
      // Whichever exec entry the kernel has, the 5.8+ program's presence stands for the build's.
      const script = probeScriptPath(flavor, { ...DEFAULT_VARIANT, dialect: opts.dialect ?? '0.17' });
      if (!existsSync(script)) return { flavor, loads: false, reason: `${script} is missing from this build` };
      const given = opts.trials?.find((t) => t.flavor === flavor);
      if (given) return given;
      if (opts.untriedLast && request === 'auto' && i === candidates.length - 1)
        return { flavor, loads: true, reason: 'not tried apart: loading the probes is its trial' };
      return tryFlavor(flavor, opts);
    }),
  );
  const chosenAt = trials.findIndex((t) => t.loads);
  if (chosenAt < 0) return { chosen: null, reason: trials.map((t) => `${t.flavor}: ${t.reason}`).join('; '), trials };
  const tried = trials.slice(0, chosenAt + 1);
  const skipped = tried.filter((t) => !t.loads).map((t) => `${t.flavor}: ${t.reason}`);
  const why =
    request === 'auto' ? (skipped.length ? `first on the ladder that loads (${skipped.join('; ')})` : 'the best flavor loads') : 'requested, and it loads';
  return { chosen: trials[chosenAt]!.flavor, reason: why, trials: tried };
}
