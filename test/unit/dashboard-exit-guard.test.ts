// The crash path of the exit guard, in a real child process (it calls process.exit).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const CHILD = resolve(import.meta.dirname, 'fixtures', 'dashboard-exit-guard-child.ts');

describe('installExitGuard', () => {
  it('on a crash restores, stops, kills a slow session, then exits 1, even when reporting fails', () => {
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD], { encoding: 'utf8', timeout: 15_000 });
    expect(r.error, 'the child did not exit (re-reporting loop?)').toBeUndefined();
    expect(r.status).toBe(1);
    // restore first, one stop, kill after killAfterMs, and the exit waits for the stop to end.
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['restore', 'stop', 'kill', 'stopped', 'exit 1']);
    expect(Date.now() - started).toBeLessThan(12_000);
  });
});
