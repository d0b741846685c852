// The recorder's bpftrace environment: ring size, the preloaded libraries in order (the compile
// preloads, the wakeup library, then a user's own), and BPFTRACE_BTF only when bpftrace needs it.
import { describe, expect, it } from 'vitest';
import { bpftraceEnv, PERF_RB_PAGES } from '../../src/trace/record/bpftrace-env.js';
import type { WakeupPlan } from '../../src/trace/wakeup-batching.js';

const batched: WakeupPlan = {
  mode: 'batched',
  reason: null,
  env: { LD_PRELOAD: '/x/wakeup.so /opt/mine.so', EXETRACE_WAKEUP_BYTES: '65536', EXETRACE_POLL_MS: '20' },
};
const perEvent: WakeupPlan = { mode: 'per-event', reason: 'off', env: {} };

describe('bpftraceEnv', () => {
  it('preloads the compile libraries before the wakeup library and a user LD_PRELOAD', () => {
    const env = bpftraceEnv(batched, false, ['/x/index.so', '/x/reuse.so']);
    expect(env).toMatchObject({ BPFTRACE_PERF_RB_PAGES: process.env.BPFTRACE_PERF_RB_PAGES ?? String(PERF_RB_PAGES), EXETRACE_POLL_MS: '20' });
    expect(env.LD_PRELOAD).toBe('/x/index.so /x/reuse.so /x/wakeup.so /opt/mine.so');
    expect(env.BPFTRACE_BTF).toBeUndefined();
  });

  it('leaves LD_PRELOAD to the wakeup plan (or the user) without compile libraries, and hands over BTF when asked', () => {
    expect(bpftraceEnv(batched, false, []).LD_PRELOAD).toBe('/x/wakeup.so /opt/mine.so');
    expect(bpftraceEnv(perEvent, true, ['/x/index.so'])).toMatchObject({
      LD_PRELOAD: expect.stringMatching(/^\/x\/index\.so( |$)/),
      BPFTRACE_BTF: '/sys/kernel/btf/vmlinux',
    });
  });
});
