// Facts about the host read fresh on every call (nothing cached across runs): kernel release,
// root, lockdown, BTF, tracefs, kprobe support files, the bpftrace binary and its version.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const TRACEFS_PATHS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'] as const;
export const LOCKDOWN_PATH = '/sys/kernel/security/lockdown';
export const BTF_PATH = '/sys/kernel/btf/vmlinux';

export const isRoot = (): boolean => process.getuid?.() === 0;

/** A fact, or why it could not be read. */
export type Fact<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Mount points of tracefs per /proc/self/mounts (readable by anyone, unlike tracefs itself). */
function tracefsMounts(): string[] {
  try {
    return readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f[2] === 'tracefs' && f[1] !== undefined)
      .map((f) => f[1]!.replace(/\\040/g, ' '));
  } catch {
    return [];
  }
}

/** The tracefs directory (holding events/), or null when it is not mounted. */
export function findTracefs(): string | null {
  for (const dir of TRACEFS_PATHS) if (existsSync(join(dir, 'events'))) return dir;
  // Non-root cannot look inside tracefs (mode 0700): trust the mount table instead.
  const mounted = tracefsMounts();
  return TRACEFS_PATHS.find((p) => mounted.includes(p)) ?? null;
}

/** Mount tracefs when it is missing and we are root; otherwise explain. */
export function ensureTracefs(): Fact<{ path: string; mountedNow: boolean }> {
  const found = findTracefs();
  if (found !== null) return { ok: true, value: { path: found, mountedNow: false } };
  if (!isRoot()) {
    return { ok: false, reason: 'tracefs is not mounted and only root can mount it: mount -t tracefs nodev /sys/kernel/tracing' };
  }
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS_PATHS[0]], { stdio: 'pipe' });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    return { ok: false, reason: `tracefs is not mounted and mounting it failed: ${e.stderr?.toString().trim() || e.message}` };
  }
  const now = findTracefs();
  return now !== null ? { ok: true, value: { path: now, mountedNow: true } } : { ok: false, reason: 'mounted tracefs but events/ is still missing' };
}

/** The active lockdown mode ("none", "integrity", "confidentiality"); mounts securityfs if needed. */
export function lockdownMode(): Fact<string> {
  if (!existsSync(LOCKDOWN_PATH) && isRoot() && !existsSync('/sys/kernel/security/lsm')) {
    try {
      execFileSync('mount', ['-t', 'securityfs', 'securityfs', '/sys/kernel/security'], { stdio: 'pipe' });
    } catch {
      // Fall through: reported below as unreadable.
    }
  }
  try {
    const text = readFileSync(LOCKDOWN_PATH, 'utf8');
    const active = /\[(\w+)\]/.exec(text);
    return active ? { ok: true, value: active[1]! } : { ok: false, reason: `unexpected contents of ${LOCKDOWN_PATH}: ${text.trim()}` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, reason: code === 'ENOENT' ? 'no lockdown LSM (or securityfs not mounted)' : `${LOCKDOWN_PATH}: ${code}` };
  }
}

export const btfPresent = (): boolean => existsSync(BTF_PATH);

/** kprobe_events exists only when the kernel was built with CONFIG_KPROBE_EVENTS. */
export function kprobeEventsPresent(tracefs: string | null = findTracefs()): boolean {
  return tracefs !== null && existsSync(join(tracefs, 'kprobe_events'));
}

/** Search PATH for bpftrace (execa would, but doctor reports the path). */
export function findBpftrace(): string | null {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'bpftrace');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** "v0.17.0" from `bpftrace --version` ("bpftrace v0.17.0"). */
export function bpftraceVersion(path = 'bpftrace'): Fact<string> {
  try {
    // Seconds in a TCG guest on a busy host (5 s timed out there): the limit only catches a hang.
    const out = execFileSync(path, ['--version'], { stdio: 'pipe', timeout: 60_000 }).toString();
    return versionFrom(out);
  } catch (err) {
    return versionError(err as Error & { code?: unknown });
  }
}

/** The same, without blocking: the recorder reads BTF meanwhile. */
export function bpftraceVersionAsync(path = 'bpftrace'): Promise<Fact<string>> {
  return new Promise((resolve) => {
    execFile(path, ['--version'], { encoding: 'utf8', timeout: 60_000 }, (err, stdout) => resolve(err ? versionError(err) : versionFrom(stdout)));
  });
}

function versionFrom(out: string): Fact<string> {
  const m = /bpftrace\s+(\S+)/.exec(out.trim());
  return m ? { ok: true, value: m[1]! } : { ok: false, reason: `unexpected output of bpftrace --version: ${out.trim()}` };
}

function versionError(err: { code?: unknown; message: string }): Fact<string> {
  return { ok: false, reason: err.code === 'ENOENT' ? 'bpftrace not found; apt-get install bpftrace' : err.message };
}

/**
 * Whether bpftrace finds the kernel's BTF by itself (`bpftrace --info`, "btf: yes"). bpftrace
 * 0.17..0.23 look for it among the loaded BTF objects flagged kernel_btf, a flag Linux 5.11
 * added: on 5.10 they see none although /sys/kernel/btf/vmlinux is there.
 */
export function bpftraceFindsBtf(path = 'bpftrace'): Fact<boolean> {
  const r = spawnSync(path, ['--info'], { encoding: 'utf8', timeout: 60_000, env: infoEnv() });
  return findsBtfFrom(r.error, r.stdout, r.stderr);
}

/** The same, without blocking: the recorder asks while its flavor trials run. */
export function bpftraceFindsBtfAsync(path = 'bpftrace'): Promise<Fact<boolean>> {
  return new Promise((resolve) => {
    execFile(path, ['--info'], { encoding: 'utf8', timeout: 60_000, env: infoEnv() }, (err, stdout, stderr) => {
      // A non-zero exit still printed what it found; only a failure to run is an error.
      const runError = err !== null && typeof err.code !== 'number' ? err : undefined;
      resolve(findsBtfFrom(runError, stdout, stderr));
    });
  });
}

function infoEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.BPFTRACE_BTF;
  return env;
}

function findsBtfFrom(error: Error | undefined, stdout: string, stderr: string): Fact<boolean> {
  if (error) return { ok: false, reason: `bpftrace --info failed: ${error.message}` };
  // 0.17 prints --info on stderr, 0.23 on stdout.
  const v = btfFromBpftraceInfo(`${stdout}\n${stderr}`);
  return v !== null ? { ok: true, value: v } : { ok: false, reason: 'bpftrace --info does not say whether it has BTF' };
}

/** The "btf: yes|no" of `bpftrace --info` (0.17: one per line; 0.23: two columns, and a separate "module btf"). */
export function btfFromBpftraceInfo(text: string): boolean | null {
  const m = /(?<!module )\bbtf: (yes|no)\b/.exec(text);
  return m ? m[1] === 'yes' : null;
}
