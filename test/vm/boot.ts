// Boots a kernel with the cached rootfs plus a per-run overlay under qemu (KVM if it works, else TCG),
// runs a job script as the guest's work, and returns the files the guest sent back over ttyS1.
import { execa } from 'execa';
import { readFileSync, mkdirSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { buildOverlay, padTo4, type OverlayFile } from './rootfs.js';
import { accelArgs, pickAccel } from './accel.js';
import { PROJECT_ROOT, VM_CACHE, log } from './paths.js';
import type { FetchedKernel } from './fetch.js';

export interface GuestResult {
  kernel: string;
  /** uname -r the guest reported, or null when it never booted far enough. */
  booted: string | null;
  /** The job's exit status, or null when the guest never finished. */
  rc: number | null;
  files: Map<string, Buffer>;
  /** ttyS0 (console) output, for diagnosis. */
  console: string;
  seconds: number;
}

export interface BootOptions {
  kernel: FetchedKernel;
  rootfs: string;
  /** Shell script the guest runs as root; files it leaves in /results come back. */
  job: string;
  extraFiles?: OverlayFile[];
  memoryMiB?: number;
  timeoutMs?: number;
}

/** Parses the framed ttyS1 stream written by guest-init.sh. Tolerates a cut-off stream. */
export function parseResults(text: string): { booted: string | null; rc: number | null; done: boolean; files: Map<string, Buffer> } {
  const files = new Map<string, Buffer>();
  let booted: string | null = null;
  let rc: number | null = null;
  let done = false;
  let current: string | null = null;
  let chunks: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (current !== null) {
      if (line === `@@END ${current}`) {
        files.set(current, Buffer.from(chunks.join(''), 'base64'));
        current = null;
        chunks = [];
      } else chunks.push(line);
      continue;
    }
    if (line.startsWith('@@BOOTED ')) booted = line.slice(9);
    else if (line.startsWith('@@BEGIN ')) current = line.slice(8);
    else if (line.startsWith('@@RC ')) rc = Number(line.slice(5));
    else if (line === '@@DONE') done = true;
  }
  return { booted, rc, done, files };
}

export async function bootGuest(opts: BootOptions): Promise<GuestResult> {
  const t0 = Date.now();
  const runDir = join(VM_CACHE, 'runs', opts.kernel.target.name);
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const overlay = join(runDir, 'overlay.cpio');
  const files: OverlayFile[] = [
    { guestPath: '/init', content: readFileSync(join(PROJECT_ROOT, 'test', 'vm', 'guest-init.sh'), 'utf8'), mode: 0o755 },
    { guestPath: '/job.sh', content: opts.job, mode: 0o755 },
    // Never under /lib, /bin, ...: those are merged-usr symlinks, and an archive entry of another
    // type makes the kernel's unpacker replace the symlink (then nothing finds libc).
    { guestPath: '/usr/lib/modules-extra', from: opts.kernel.modulesDir },
    ...(opts.extraFiles ?? []),
  ];
  await buildOverlay(files, overlay);
  // Compressed rootfs (already padded to 4 bytes) followed by the plain overlay.
  const initrd = join(runDir, 'initrd.img');
  writeFileSync(initrd, readFileSync(opts.rootfs));
  padTo4(initrd);
  writeFileSync(initrd, readFileSync(overlay), { flag: 'a' });
  rmSync(overlay);

  const accel = await pickAccel(opts.kernel.vmlinuz);
  const resultsFile = join(runDir, 'ttyS1.txt');
  const consoleFile = join(runDir, 'console.txt');
  const args = [
    // One vCPU: multi-threaded TCG oopsed on int3 text patching (6.12 boot, static keys), and two
    // guests run side by side on this 2-core host anyway.
    '-machine',
    'q35',
    ...accelArgs(accel),
    '-smp',
    '1',
    '-m',
    String(opts.memoryMiB ?? 2048),
    '-nographic',
    '-no-reboot',
    '-kernel',
    opts.kernel.vmlinuz,
    '-initrd',
    initrd,
    // quiet console keeps TCG time off printk; panic=-1 turns a guest crash into an exit.
    '-append',
    'console=ttyS0 panic=-1 quiet loglevel=4 rdinit=/init mitigations=off',
    '-serial',
    `file:${consoleFile}`,
    '-serial',
    `file:${resultsFile}`,
    '-monitor',
    'none',
    '-display',
    'none',
    '-nodefaults',
  ];
  log(`${opts.kernel.target.name}: booting ${opts.kernel.release} (qemu ${accel.toUpperCase()})`);
  const proc = execa('qemu-system-x86_64', args, { reject: false, timeout: opts.timeoutMs ?? 600_000, stdin: 'ignore', all: true });
  const qemuOut = createWriteStream(join(runDir, 'qemu.txt'));
  proc.all?.pipe(qemuOut);
  // Progress: the guest writes "@@LOG ..." lines to ttyS1 as it goes; echo them while waiting.
  let seen = 0;
  const progress = setInterval(() => {
    let t: string;
    try {
      t = readFileSync(resultsFile, 'latin1');
    } catch {
      return;
    }
    for (const line of t.slice(seen).split('\n').slice(0, -1)) {
      if (line.startsWith('@@LOG ') || line.startsWith('@@BOOTED ')) log(`${opts.kernel.target.name}: ${line.slice(2)}`);
    }
    seen = t.lastIndexOf('\n') + 1;
  }, 2000);
  const r = await proc;
  clearInterval(progress);
  let text = '';
  try {
    text = readFileSync(resultsFile, 'latin1');
  } catch {
    /* never opened */
  }
  let consoleText = '';
  try {
    consoleText = readFileSync(consoleFile, 'utf8');
  } catch {
    /* never opened */
  }
  const parsed = parseResults(text);
  const seconds = (Date.now() - t0) / 1000;
  log(
    `${opts.kernel.target.name}: qemu exited ${r.exitCode ?? r.signal} after ${seconds.toFixed(1)} s; booted=${parsed.booted} rc=${parsed.rc} files=${[...parsed.files.keys()].join(',')}`,
  );
  if (r.timedOut) log(`${opts.kernel.target.name}: qemu TIMED OUT`);
  return { kernel: opts.kernel.release, booted: parsed.booted, rc: parsed.done ? parsed.rc : null, files: parsed.files, console: consoleText, seconds };
}
