// Live tests need root, bpftrace and tracefs. Without them a live test skips, unless
// EXETRACE_REQUIRE_LIVE=1 (CI), where it must fail so a broken CI host cannot pass silently.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface LiveGate {
  ok: boolean;
  reason: string;
}

export function liveGate(): LiveGate {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not running as root' };
  try {
    execFileSync('bpftrace', ['--version'], { stdio: 'pipe' });
  } catch {
    return { ok: false, reason: 'bpftrace is not installed (apt-get install bpftrace)' };
  }
  if (!existsSync('/sys/kernel/tracing/events') && !existsSync('/sys/kernel/debug/tracing/events')) {
    return { ok: false, reason: 'tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)' };
  }
  return { ok: true, reason: '' };
}

export const requireLive = process.env.EXETRACE_REQUIRE_LIVE === '1';

/**
 * Use as `describe.skipIf(skipLive())(...)`: true means skip. Under EXETRACE_REQUIRE_LIVE=1 it
 * throws instead, which fails the file.
 */
export function skipLive(): boolean {
  const gate = liveGate();
  if (gate.ok) return false;
  if (requireLive) throw new Error(`live test cannot run but EXETRACE_REQUIRE_LIVE=1: ${gate.reason}`);
  return true;
}
