// The typed event stream: the one contract between the probes (through the decoder),
// the recorder, the trace files and the model. Every probe flavor produces these.
//
// Conventions:
// - `ts` is the kernel's CLOCK_MONOTONIC in nanoseconds (bpftrace `nsecs`), as a decimal string
//   would lose nothing but costs; we keep it a number (ns fit in 2^53 for ~104 days of uptime,
//   and the decoder reports a parse issue beyond that).
// - Kernel pointers (mm, file) are lower-case hex strings with 0x prefix, e.g. "0xffff8881000744c0".
// - `dev` is the userspace encoding (what stat(2) returns in st_dev), never the kernel's MKDEV.
// - Kernel strings (comm, names, paths) are decoded with surrogateescape (see kernel-string.ts):
//   valid UTF-8 stays as is, every other byte becomes U+DC80..U+DCFF. They are hostile: sanitise
//   before display.

export type Hex = string;

/** A file as the kernel sees it: identity by (dev, ino); name and path for display only. */
export interface FileRef {
  /** struct file pointer, when the probe saw one. */
  file: Hex | null;
  dev: number;
  ino: number;
  /** Last path component (d_name). */
  name: string;
  /** Full path built in BPF, or null when it could not be built (too deep, lost parts). */
  path: string | null;
  /** True when the BPF walk stopped at its depth bound before reaching the root. */
  pathTruncated: boolean;
}

interface Base {
  ts: number;
  /** Thread-group id (what users call the pid). */
  pid: number;
  tid: number;
  comm: string;
}

/** sched:sched_prepare_exec: inside begin_new_exec, before the old mm is released. */
export interface ExecBeginEvent extends Base {
  kind: 'exec_begin';
  /** The mm being replaced (null for a kernel thread calling exec). */
  oldMm: Hex | null;
  /** bprm->filename: the name as passed (e.g. /dev/fd/3 for fexecve). */
  filename: string;
  /** bprm->interp: differs from filename for #! scripts and binfmt_misc. */
  interp: string;
}

/** sched:sched_process_exec: exec is done, `mm` is the new mm, `exe` is mm->exe_file. */
export interface ExecEvent extends Base {
  kind: 'exec';
  /** The tid that called exec (differs from pid when a non-leader thread exec'd). */
  oldTid: number;
  ppid: number;
  mm: Hex;
  exe: FileRef | null;
  startCode: number;
  endCode: number;
  filename: string;
  /**
   * argv[0] of the new image, read from its stack (for a #! script the kernel put the
   * interpreter there). Absent in traces older than it, and when the exec's exec_begin was lost.
   */
  argv0?: string;
  /** s_magic of the exe's superblock (0: no exe). Absent in older traces. */
  exeMagic?: number;
  /** The exe's mount is kernel-internal (MNT_INTERNAL: memfd's shm mount). Absent in older traces. */
  exeInternalMount?: boolean;
  /** The exe is an overlayfs inode with an upper (writable-layer) dentry. Absent in older traces. */
  exeOverlayUpper?: boolean;
}

/** task:task_newtask in the parent: a new task was created. */
export interface ForkEvent extends Base {
  kind: 'fork';
  childPid: number;
  childTid: number;
  cloneFlags: number;
  parentMm: Hex | null;
  /** CLONE_THREAD: the child joins the parent's thread group. */
  thread: boolean;
  /** CLONE_VM: the child runs on the parent's mm (threads and vfork). */
  sharesMm: boolean;
}

/** The child's first return to user space (sys_exit_clone/clone3/fork/vfork with ret 0): its mm. */
export interface MmAttachEvent extends Base {
  kind: 'mm_attach';
  ppid: number;
  mm: Hex;
  /** mm->exe_file as the child sees it (inherited through dup_mmap). */
  exe: FileRef | null;
}

/** mmap:exit_mmap: the mm's final teardown (last mmput; also the old mm at exec). */
export interface MmExitEvent extends Base {
  kind: 'mm_exit';
  mm: Hex;
  /** mm->exe_file, still set at this point. */
  exe: FileRef | null;
}

/** sched:sched_process_exit. */
export interface ExitEvent extends Base {
  kind: 'exit';
  /** True when this was the last thread of the group. */
  groupDead: boolean;
  exitCode: number;
}

/** mmap(2) that created a file-backed executable mapping, or any MAP_FIXED mapping. */
export interface MmapEvent extends Base {
  kind: 'mmap';
  mm: Hex;
  /** Return value: the mapping's address, or a negative errno. */
  addr: number;
  len: number;
  prot: number;
  flags: number;
  fd: number;
  pgoff: number;
  /** The mapped file, resolved from fd in BPF; null for anonymous mappings. */
  file: FileRef | null;
}

export interface MunmapEvent extends Base {
  kind: 'munmap';
  mm: Hex;
  addr: number;
  len: number;
  ret: number;
}

export interface MremapEvent extends Base {
  kind: 'mremap';
  mm: Hex;
  oldAddr: number;
  oldLen: number;
  newLen: number;
  flags: number;
  /** Return value: the new address, or a negative errno. */
  ret: number;
}

export interface MprotectEvent extends Base {
  kind: 'mprotect';
  mm: Hex;
  addr: number;
  len: number;
  prot: number;
  ret: number;
}

/** prctl(PR_SET_MM, ...): PR_SET_MM_EXE_FILE (13) or PR_SET_MM_MAP (14) carry an exe fd. */
export interface PrctlMmEvent extends Base {
  kind: 'prctl_mm';
  mm: Hex;
  /** PR_SET_MM sub-option (arg2). */
  subOption: number;
  /** The fd that names the new exe (arg3 for EXE_FILE, prctl_mm_map.exe_fd for MAP), or -1. */
  exeFd: number;
  ret: number;
  /** mm->exe_file before and after the call. */
  exeBefore: FileRef | null;
  exeAfter: FileRef | null;
}

/** The calls an exe_read reports; probes print the index into this list. */
export const EXE_READ_SYSCALLS = ['readlink', 'readlinkat', 'openat', 'execve', 'proc_exe_link'] as const;
export type ExeReadSyscall = (typeof EXE_READ_SYSCALLS)[number];

/**
 * A read of /proc/<pid>/exe: readlink(at) with its answer, or openat/execve of the link; or
 * (kfunc/kprobe flavors only) 'proc_exe_link', the kernel resolving the link for any of those.
 */
export interface ExeReadEvent extends Base {
  kind: 'exe_read';
  syscall: ExeReadSyscall;
  /** The path argument as passed; "exe" for proc_exe_link. */
  path: string;
  /**
   * For *at calls with a relative path: the dirfd's name (e.g. "1234" or "self"); for
   * proc_exe_link: the link's directory (the pid, or the tid under /proc/<pid>/task); else null.
   */
  dirName: string | null;
  /** The pid whose exe link was read, resolved from the path; null when it could not be. */
  targetPid: number | null;
  /** readlink: bytes returned or -errno; openat: fd or -errno; execve and proc_exe_link: 0 or -errno. */
  ret: number;
  /**
   * readlink: the string the kernel returned; proc_exe_link: exe_path as walked in BPF (no
   * " (deleted)" suffix; null when the walk hit its bound); null for the others or on error.
   */
  answer: string | null;
}

/** One line of /proc/<pid>/maps. */
export interface MapsEntry {
  start: number;
  end: number;
  perms: string;
  offset: number;
  dev: number;
  ino: number;
  path: string;
}

/** Why a /proc snapshot was taken. */
export const SNAPSHOT_REASONS = ['startup', 'exec', 'exe_read', 'vma_change'] as const;
export type SnapshotReason = (typeof SNAPSHOT_REASONS)[number];

/**
 * A userspace look at /proc/<pid>: taken at start-up for every process ("startup"),
 * and by the live recorder at exec, at exe reads, and when the executable's ranges change.
 */
export interface ProcSnapshotEvent extends Base {
  kind: 'proc_snapshot';
  reason: SnapshotReason;
  /** readlink(/proc/pid/exe), or null with the errno name in exeError. */
  exeLink: string | null;
  exeError: string | null;
  /** stat(/proc/pid/exe): the exe_file's identity. */
  exeDev: number | null;
  exeIno: number | null;
  /** Only file-backed executable mappings plus every mapping of the exe's (dev, ino). */
  maps: MapsEntry[];
  /**
   * AT_BASE from /proc/pid/auxv: where the kernel mapped the ELF interpreter at exec, 0 when the
   * image had none; null when unreadable. Absent in older traces.
   */
  interpBase?: number | null;
  /** The exe's ELF structure (read only when interpBase is 0; 'dynamic' otherwise). Absent in older traces. */
  exeElf?: ElfKind | null;
  /** st_nlink of the exe (0: unlinked). Absent in older traces. */
  exeNlink?: number | null;
  /** statfs f_type of the exe's filesystem. Absent in older traces. */
  exeFsMagic?: number | null;
  /** Whether the exe's mount is in the process's mountinfo (false: kernel-internal, e.g. memfd). Absent in older traces. */
  exeMountListed?: boolean | null;
  /** start_code/end_code from /proc/pid/stat (start-up snapshots only: no exec event gave them). */
  startCode?: number | null;
  endCode?: number | null;
}

/**
 * What an ELF file is, from its header, program headers and dynamic section:
 * 'dynamic' has PT_INTERP; 'shared-object' is ET_DYN without PT_INTERP and without DF_1_PIE
 * (a loader such as ld.so run as a program); 'static-pie' ET_DYN with DF_1_PIE and no
 * PT_INTERP; 'static' ET_EXEC without PT_INTERP; 'not-elf' anything else.
 */
export const ELF_KINDS = ['dynamic', 'shared-object', 'static-pie', 'static', 'not-elf'] as const;
export type ElfKind = (typeof ELF_KINDS)[number];

/** Filesystem magics (statfs f_type, s_magic). */
export const TMPFS_MAGIC = 0x01021994;
export const HUGETLBFS_MAGIC = 0x958458f6;
export const OVERLAYFS_MAGIC = 0x794c7630;

/** Events the kernel dropped (bpftrace lost_events), or a gap the decoder could prove. */
export interface GapEvent {
  kind: 'gap';
  ts: number;
  lost: number;
  source: 'bpftrace' | 'decoder';
}

export type TraceEvent =
  | ExecBeginEvent
  | ExecEvent
  | ForkEvent
  | MmAttachEvent
  | MmExitEvent
  | ExitEvent
  | MmapEvent
  | MunmapEvent
  | MremapEvent
  | MprotectEvent
  | PrctlMmEvent
  | ExeReadEvent
  | ProcSnapshotEvent
  | GapEvent;

export type TraceEventKind = TraceEvent['kind'];

/** PR_SET_MM sub-options that replace exe_file. */
export const PR_SET_MM_EXE_FILE = 13;
export const PR_SET_MM_MAP = 14;

export const PROT_EXEC = 0x4;
export const MAP_FIXED = 0x10;
export const CLONE_VM = 0x100;
export const CLONE_THREAD = 0x10000;

/** The default of a switch over a union that must handle every member: adding one fails to compile here. */
export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(x)}`);
}
