// KVM when it really runs a guest here, else TCG, found by trying: boot the kernel with no
// initrd and panic=-1; a working KVM reaches the kernel's "no root" panic and exits in seconds.
// Seen on this host: /dev/kvm is a PVM (kvm-pvm) that fails stock kernels' decompressors
// ("KVM internal error", or `-cpu host` dies on MSR 0x10a), so the harness falls back to TCG.
// EXETRACE_VM_ACCEL=kvm|tcg skips the trial.
import { execa } from 'execa';
import { accessSync, constants } from 'node:fs';
import { log } from './paths.js';

export type Accel = 'kvm' | 'tcg';

/** qemu arguments for each accelerator: one vCPU on purpose (see boot.ts). */
export function accelArgs(accel: Accel): string[] {
  return accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg', '-cpu', 'max'];
}

let picked: Promise<Accel> | null = null;
/** Once per process: the answer holds for every kernel a run boots. */
export function pickAccel(vmlinuz: string): Promise<Accel> {
  picked ??= tryAccel(vmlinuz);
  return picked;
}

async function tryAccel(vmlinuz: string): Promise<Accel> {
  const forced = process.env.EXETRACE_VM_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return forced;
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    log('accel: no usable /dev/kvm, TCG');
    return 'tcg';
  }
  const r = await execa(
    'qemu-system-x86_64',
    [
      ...['-machine', 'q35', ...accelArgs('kvm'), '-m', '512', '-smp', '1', '-nographic', '-no-reboot', '-nodefaults'],
      ...['-kernel', vmlinuz, '-append', 'console=ttyS0 panic=-1', '-serial', 'stdio', '-monitor', 'none', '-display', 'none'],
    ],
    { reject: false, timeout: 30_000, stdin: 'ignore', all: true },
  );
  const out = r.all ?? '';
  const works = /Kernel panic/.test(out) && !/KVM internal error/.test(out);
  const why = works
    ? 'a kernel booted to its no-root panic'
    : (out.match(/KVM internal error.*|qemu-system-x86_64: .*/)?.[0] ?? (r.timedOut ? 'no panic within 30 s' : `qemu exited ${r.exitCode}`));
  log(`accel: KVM ${works ? 'works' : `does not work (${why.trim()}), TCG`}`);
  return works ? 'kvm' : 'tcg';
}
