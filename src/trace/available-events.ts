// bpftrace 0.17 re-reads tracefs' available_events (2,300 lines, generated on every read) for
// each probe it resolves: 1,749 reads and about 1.5 s of CPU for exetrace's program, most of
// its start-up. It is started in a private mount namespace where that file is a plain copy
// holding only the program's own tracepoints (those this kernel has, so a missing one still
// fails exactly as before). Where unshare or the bind mount is not possible, bpftrace runs as is.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRACEFS_PATHS } from '../kernel/host-facts.js';

/** The tracepoints ("group:name") a bpftrace program attaches to. */
export function tracepointsOf(programText: string): string[] {
  const found = new Set<string>();
  for (const m of programText.matchAll(/^\s*tracepoint:([a-z0-9_]+):([a-z0-9_]+)/gm)) found.add(`${m[1]}:${m[2]}`);
  return [...found];
}

let unshareWorks: boolean | null = null;
function canUnshareMounts(): boolean {
  unshareWorks ??= spawnSync('unshare', ['--mount', '--propagation', 'private', 'true'], { stdio: 'ignore' }).status === 0;
  return unshareWorks;
}

const BIND_AND_EXEC = 'd=$1; t=$2; shift 2; mount --bind "$d/available_events" "$t" 2>/dev/null; rm -rf "$d"; exec "$@"';

/** The command that runs bpftrace with `args`, through the private copy when it can. */
export function bpftraceCommand(bpftrace: string, args: readonly string[], tracepoints: readonly string[] | null): { file: string; args: string[] } {
  const plain = { file: bpftrace, args: [...args] };
  if (tracepoints === null || process.getuid?.() !== 0) return plain;
  const target = TRACEFS_PATHS.map((p) => join(p, 'available_events')).find((p) => existsSync(p));
  if (target === undefined || !canUnshareMounts()) return plain;
  let real: string;
  try {
    real = readFileSync(target, 'utf8');
  } catch {
    return plain;
  }
  const wanted = new Set(tracepoints);
  const kept = real.split('\n').filter((l) => wanted.has(l.trim()));
  const dir = mkdtempSync(join(tmpdir(), 'exetrace-events-'));
  writeFileSync(join(dir, 'available_events'), kept.join('\n') + '\n', { mode: 0o600 });
  return { file: 'unshare', args: ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', BIND_AND_EXEC, 'sh', dir, target, bpftrace, ...args] };
}
