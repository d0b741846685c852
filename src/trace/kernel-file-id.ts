// The identity the kernel itself uses for a file: (i_sb->s_dev, i_ino). That is what the probes
// read and what /proc/PID/maps prints. stat(2) can answer differently: an overlayfs whose layers
// sit on different filesystems reports a per-layer st_dev. So for /proc/PID/exe we ask the mount
// instead: an O_PATH fd's fdinfo names its mount id, and mountinfo gives that mount's s_dev.
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { makedev } from '../kernel/dev-t.js';

/** O_PATH on Linux (x86, arm, riscv, ...); Node does not export it. */
const O_PATH = 0o10000000;

export interface KernelFileId {
  dev: number;
  ino: number;
  /** True when the device came from mountinfo (kernel s_dev); false when only stat's was available. */
  fromMount: boolean;
  /** What stat(2) says: a cheap identity for checking later that the exe is still the same file. */
  statDev: number;
  statIno: number;
  /** stat's st_nlink: 0 once the file is unlinked everywhere. */
  nlink: number;
  /**
   * Whether the file's mount is in the process's mountinfo: false for a kernel-internal mount
   * (memfd's shm mount has no place in any namespace); null when fdinfo or mountinfo was unreadable.
   */
  mountListed: boolean | null;
}

function mountDev(mountinfo: string, mntId: number): number | null {
  for (const line of mountinfo.split('\n')) {
    // "36 35 98:0 /mnt1 /mnt/parent rw,... - ext3 /dev/root rw": id, parent id, major:minor, ...
    const [id, , majMin] = line.split(' ', 3);
    if (Number(id) !== mntId || majMin === undefined) continue;
    const [maj, min] = majMin.split(':').map(Number);
    if (maj === undefined || min === undefined || Number.isNaN(maj) || Number.isNaN(min)) return null;
    return makedev(maj, min);
  }
  return null;
}

/**
 * (dev, ino) of the file /proc/<pid>/exe names, as the kernel sees it. Throws like fs calls do
 * when the process is gone or has no exe (ENOENT), so callers keep their error handling.
 */
export function exeKernelId(pid: number, procRoot = '/proc'): KernelFileId {
  const fd = openSync(`${procRoot}/${pid}/exe`, O_PATH);
  try {
    const st = fstatSync(fd);
    let fdinfo: string;
    try {
      fdinfo = readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1');
    } catch {
      return { dev: st.dev, ino: st.ino, fromMount: false, statDev: st.dev, statIno: st.ino, nlink: st.nlink, mountListed: null };
    }
    const mntId = /^mnt_id:\s*(\d+)/m.exec(fdinfo);
    const ino = /^ino:\s*(\d+)/m.exec(fdinfo);
    let dev: number | null = null;
    let mountListed: boolean | null = null;
    if (mntId) {
      try {
        // The target's own mount namespace: its exe may sit on a mount we cannot see.
        dev = mountDev(readFileSync(`${procRoot}/${pid}/mountinfo`, 'latin1'), Number(mntId[1]));
        mountListed = dev !== null;
      } catch {
        dev = null;
      }
    }
    const inode = ino ? Number(ino[1]) : st.ino;
    const stat = { statDev: st.dev, statIno: st.ino, nlink: st.nlink, mountListed };
    return dev === null ? { dev: st.dev, ino: inode, fromMount: false, ...stat } : { dev, ino: inode, fromMount: true, ...stat };
  } finally {
    closeSync(fd);
  }
}
