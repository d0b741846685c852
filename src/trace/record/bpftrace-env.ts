// The environment the recorder's bpftrace runs with: its output ring size, the string trailer
// setting, the preloaded libraries (compile-preloads.ts, wakeup-batching.ts), and BPFTRACE_BTF
// where bpftrace does not find the kernel's BTF by itself.
import { parseBpftraceVersion, STRING_TRAILER_ENV } from '../bpftrace-dialect.js';
import { planWakeups, type WakeupPlan } from '../wakeup-batching.js';
import { BTF_PATH } from '../../kernel/host-facts.js';

/**
 * bpftrace's per-CPU output ring defaults to 64 pages; an exec burst (a shell loop, a build)
 * overflowed it and lost thousands of events here. 1024 pages (4 MiB per CPU) held them.
 * A value the user exported wins.
 */
export const PERF_RB_PAGES = 1024;
/** BPFTRACE_PERF_RB_PAGES as bpftrace will see it. */
export function ringPages(): number {
  const asked = Number(process.env.BPFTRACE_PERF_RB_PAGES);
  return Number.isSafeInteger(asked) && asked > 0 ? asked : PERF_RB_PAGES;
}

/** The wakeup plan for this bpftrace version (it test-loads the library: plan once). */
export function planRecorderWakeups(bpftraceVersion: string): WakeupPlan {
  return planWakeups(parseBpftraceVersion(bpftraceVersion), ringPages());
}

/**
 * `handBtf`: bpftrace does not find the BTF itself and the file is there. `compile`: the
 * libraries of compile-preloads.ts, preloaded before the wakeup library and a user's own.
 */
export function bpftraceEnv(wakeups: WakeupPlan, handBtf: boolean, compile: readonly string[]): Record<string, string> {
  const preload = [...compile, wakeups.env.LD_PRELOAD ?? process.env.LD_PRELOAD].filter((p) => p !== undefined && p !== '').join(' ');
  return {
    BPFTRACE_PERF_RB_PAGES: process.env.BPFTRACE_PERF_RB_PAGES ?? String(PERF_RB_PAGES),
    // bpftrace 0.18+ appends ".." to a string cut at max_strlen; a cut string must stay a byte
    // prefix of the kernel's (0.17 ignores the variable; the 0.23 programs also set it in config).
    ...STRING_TRAILER_ENV,
    ...wakeups.env,
    ...(preload !== '' ? { LD_PRELOAD: preload } : {}),
    // Without BTF bpftrace parses the programs' struct casts with kernel headers, which stock
    // systems lack: hand it the file. (kfunc still cannot load then: it needs the BTF object id.)
    ...(handBtf ? { BPFTRACE_BTF: BTF_PATH } : {}),
  };
}
