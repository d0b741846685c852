// Whether bpftrace runs with native/wakeup-batching.c preloaded, and the environment that does
// it. bpftrace 0.17 wakes its reader on every printf that finds it asleep; the wakeup runs in
// the traced task and cost 60 µs of each exec's 106 µs of BPF time here (BENCHMARKS.md). The
// library makes the perf rings wake at a byte watermark and bpftrace poll them every 20 ms.
// Used only where it is proven: bpftrace 0.17 (output on a perf event array; later versions
// moved to a BPF ring buffer, whose wakeups are already batched), a library built for this
// libc, and not switched off with EXETRACE_WAKEUP_BATCHING=0.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BpftraceVersion } from './bpftrace-dialect.js';
import { packageRoot } from './probe-program.js';

export type WakeupMode = 'batched' | 'per-event';

export interface WakeupPlan {
  mode: WakeupMode;
  /** Why per-event (null when batched). */
  reason: string | null;
  /** Environment for bpftrace: LD_PRELOAD and the library's settings (empty when per-event). */
  env: Record<string, string>;
}

/** Where `npm run build` puts the library (scripts/build-native.ts). */
export const WAKEUP_LIBRARY = join('dist', 'native', 'wakeup-batching.so');
/** Bytes a ring holds before it wakes bpftrace, at most; a quarter of a smaller ring. */
const WAKEUP_BYTES = 64 * 1024;
/** bpftrace reads rings with unread data at least this often (its own poll is 100 ms). */
const POLL_MS = 20;
const PAGE_BYTES = 4096;

function perEvent(reason: string): WakeupPlan {
  return { mode: 'per-event', reason, env: {} };
}

/**
 * The plan for this bpftrace. `ringPages` is BPFTRACE_PERF_RB_PAGES as bpftrace will see it;
 * `inherited` the caller's environment (a user's own LD_PRELOAD is kept after ours).
 */
export function planWakeups(version: BpftraceVersion | null, ringPages: number, inherited: NodeJS.ProcessEnv = process.env, root = packageRoot()): WakeupPlan {
  if (inherited.EXETRACE_WAKEUP_BATCHING === '0') return perEvent('switched off (EXETRACE_WAKEUP_BATCHING=0)');
  if (version === null || version.major !== 0 || version.minor !== 17) return perEvent('proven only with bpftrace 0.17 (perf event array output)');
  const library = join(root, WAKEUP_LIBRARY);
  if (!existsSync(library)) return perEvent(`${WAKEUP_LIBRARY} was not built (npm run build needs a C compiler)`);
  // ld.so names a library it cannot load (another libc, another architecture) on stderr and goes on.
  const trial = spawnSync('/bin/true', [], { env: { ...inherited, LD_PRELOAD: library }, encoding: 'utf8', timeout: 10_000 });
  if (trial.status !== 0 || trial.stderr.length > 0) return perEvent(`${library} does not load here: ${(trial.stderr || `exit ${trial.status}`).trim()}`);
  const bytes = Math.max(1, Math.min(WAKEUP_BYTES, Math.floor((ringPages * PAGE_BYTES) / 4)));
  const preload = [library, inherited.LD_PRELOAD].filter((p) => p !== undefined && p !== '').join(' ');
  return { mode: 'batched', reason: null, env: { LD_PRELOAD: preload, EXETRACE_WAKEUP_BYTES: String(bytes), EXETRACE_POLL_MS: String(POLL_MS) } };
}
