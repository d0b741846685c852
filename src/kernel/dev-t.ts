// Device numbers. exetrace's events carry what stat(2) returns in st_dev (glibc's makedev
// encoding); the kernel's own s_dev is MKDEV (major << 20 | minor) and /proc prints major:minor.

/** stat(2)'s st_dev for a major:minor pair. Arithmetic, not bit ops: it can exceed 32 bits. */
export function makedev(major: number, minor: number): number {
  return (major & 0xfff) * 0x100 + (minor & 0xff) + (minor & ~0xff) * 0x1000 + Math.floor(major / 0x1000) * 0x100000000;
}

/** Kernel MKDEV (major << 20 | minor, as BPF reads sb->s_dev) → stat(2)'s st_dev. */
export function kernelDevToStatDev(kdev: number): number {
  return makedev(Math.floor(kdev / 2 ** 20), kdev % 2 ** 20);
}

/** stat(2)'s st_dev as major:minor in hex, the way /proc/PID/maps prints it (inverse of makedev). */
export function devString(dev: number): string {
  const major = Number((BigInt(dev) >> 8n) & 0xfffn) | Number((BigInt(dev) >> 32n) & ~0xfffn);
  const minor = Number(BigInt(dev) & 0xffn) | Number((BigInt(dev) >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}
