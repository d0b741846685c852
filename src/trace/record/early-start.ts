// bpftrace takes 1.5-2 s here to compile, load and attach the tracepoint program, most of a
// recording's start-up, and the flavor ladder's trials of the better flavors take another 0.5 s
// before it. The tracepoint flavor is the ladder's last rung, whose trial is loading the program
// itself, so the recorder starts that program at once, beside the trials, and keeps it when the
// ladder then settles on it with the same command line and environment. Otherwise (a better
// flavor loads, bpftrace needs BPFTRACE_BTF after all, preflight fails or is stopped) the early
// start is killed before it could have attached: its only cost is the CPU it used meanwhile.
import { readFileSync } from 'node:fs';
import { tracepointsOf } from '../available-events.js';
import { spawnBpftrace, type BpftraceProcess, type SpawnOptions } from '../bpftrace-process.js';
import type { ProbeInvocation } from '../probe-program.js';

/** How the recorder starts bpftrace for `invocation`. */
export function spawnOptionsFor(bpftrace: string, invocation: ProbeInvocation, env: Record<string, string>): SpawnOptions {
  return { bpftrace, args: invocation.args, env, tracepoints: tracepointsOf(readFileSync(invocation.scriptPath, 'utf8')) };
}

export interface EarlyStart {
  options: SpawnOptions;
  process: BpftraceProcess;
}

export function startEarly(options: SpawnOptions): EarlyStart {
  return { options, process: spawnBpftrace(options) };
}

/** The early process if it was started exactly as `wanted` says (null: not wanted); else it is discarded. */
export function keepEarly(early: EarlyStart | null, wanted: SpawnOptions | null): BpftraceProcess | null {
  if (early === null) return null;
  if (wanted !== null && sameStart(early.options, wanted)) return early.process;
  early.process.discard();
  return null;
}

function sameStart(a: SpawnOptions, b: SpawnOptions): boolean {
  const env = (o: SpawnOptions): string => JSON.stringify(Object.entries(o.env ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  return (
    a.bpftrace === b.bpftrace &&
    a.noDeathSignal === b.noDeathSignal &&
    JSON.stringify(a.args) === JSON.stringify(b.args) &&
    JSON.stringify(a.tracepoints ?? null) === JSON.stringify(b.tracepoints ?? null) &&
    env(a) === env(b)
  );
}
