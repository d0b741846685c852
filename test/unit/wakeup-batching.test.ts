// When bpftrace gets native/wakeup-batching.c preloaded, and with what settings. The library
// load check is real: ld.so is asked to preload the file into /bin/true.
import { copyFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/trace/probe-program.js';
import { planWakeups, WAKEUP_LIBRARY } from '../../src/trace/wakeup-batching.js';
import { tempPackageRoot } from './fixtures/package-root.fixture.js';

const V017 = { major: 0, minor: 17, patch: 0 };
const built = join(packageRoot(), WAKEUP_LIBRARY);

describe('planWakeups', () => {
  const root = tempPackageRoot('exetrace-wakeups-');

  const withLibrary = (content: Buffer | string | null): string => {
    const lib = join(root(), WAKEUP_LIBRARY);
    rmSync(lib, { force: true });
    if (typeof content === 'string') writeFileSync(lib, content);
    else if (content !== null) writeFileSync(lib, content);
    return lib;
  };

  it('is built by npm run build (this machine has a C compiler)', () => {
    expect(existsSync(built)).toBe(true);
  });

  it('batches with bpftrace 0.17 and a library that loads: preloaded, a 64 KiB watermark, a 20 ms poll', () => {
    const lib = withLibrary(null);
    copyFileSync(built, lib);
    const p = planWakeups(V017, 1024, {}, root());
    expect(p).toEqual({ mode: 'batched', reason: null, env: { LD_PRELOAD: lib, EXETRACE_WAKEUP_BYTES: '65536', EXETRACE_POLL_MS: '20' } });
  });

  it('wakes at a quarter of a ring smaller than 256 KiB, and keeps a user LD_PRELOAD after its own', () => {
    const lib = withLibrary(null);
    copyFileSync(built, lib);
    const p = planWakeups(V017, 8, { LD_PRELOAD: '/opt/mine.so' }, root());
    expect(p.env).toEqual({ LD_PRELOAD: `${lib} /opt/mine.so`, EXETRACE_WAKEUP_BYTES: String((8 * 4096) / 4), EXETRACE_POLL_MS: '20' });
  });

  it('wakes per event when switched off, with another bpftrace, without the library, or with one ld.so cannot load', () => {
    const lib = withLibrary(null);
    copyFileSync(built, lib);
    expect(planWakeups(V017, 1024, { EXETRACE_WAKEUP_BATCHING: '0' }, root())).toMatchObject({
      mode: 'per-event',
      env: {},
      reason: expect.stringMatching(/switched off/),
    });
    for (const v of [{ major: 0, minor: 23, patch: 2 }, { major: 0, minor: 11, patch: 3 }, null]) {
      expect(planWakeups(v, 1024, {}, root())).toMatchObject({ mode: 'per-event', env: {}, reason: expect.stringMatching(/0\.17/) });
    }
    withLibrary(null);
    expect(planWakeups(V017, 1024, {}, root())).toMatchObject({ mode: 'per-event', reason: expect.stringMatching(/not built/) });
    withLibrary('not an ELF object\n');
    const bad = planWakeups(V017, 1024, {}, root());
    expect(bad.mode).toBe('per-event');
    expect(bad.reason).toMatch(/does not load here: .*cannot be preloaded/);
  });
});
