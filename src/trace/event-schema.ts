// The event schema: one TypeBox definition per event kind. It is both the validator of trace
// lines (compiled once per kind by trace-format.ts) and the source of the TypeScript types
// (events.ts derives every event type from it with Static<>), so nothing is kept twice.
// Imports only TypeBox (no I/O) and the name lists; the model sees only the derived types.
//
// Conventions (see also events.ts):
// - `ts` is the kernel's CLOCK_MONOTONIC in nanoseconds (bpftrace `nsecs`); a number, as ns fit
//   in 2^53 for ~104 days of uptime and the decoder reports a parse issue beyond that.
// - Kernel pointers (mm, file) are lower-case hex strings with 0x prefix, e.g. "0xffff8881000744c0".
// - `dev` is the userspace encoding (what stat(2) returns in st_dev), never the kernel's MKDEV.
// - Kernel strings (comm, names, paths) are decoded with surrogateescape (see kernel-string.ts):
//   valid UTF-8 stays as is, every other byte becomes U+DC80..U+DCFF. They are hostile: sanitise
//   before display.
//
// To add a field: add it to its kind's object below (Type.Optional when older traces lack it).
// To add a kind: a new `Type.Object` with its `kind` literal, listed in EVENT_SCHEMAS.
import { Type, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';
import { ELF_KINDS, EXE_READ_SYSCALLS, GAP_SOURCES, SNAPSHOT_REASONS } from './event-constants.js';

/** Any integer a JSON number holds exactly (ints beyond 2^53 would be silently rounded). */
export const Int = Type.Integer({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER });
/** A kernel pointer: lower-case hex with the 0x prefix. */
export const HexString = Type.String({ pattern: '^0x[0-9a-f]+$', description: 'a 0x hex string' });

export const nullable = <T extends TSchema>(schema: T): TUnion<[T, ReturnType<typeof Type.Null>]> => Type.Union([schema, Type.Null()]);

/** A union of string literals from a constant list: the list stays the one place the names live. */
export function oneOf<const T extends readonly string[]>(values: T): TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }> {
  return Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }>;
}

/** A file as the kernel sees it: identity by (dev, ino); name and path for display only. */
export const FileRefSchema = Type.Object({
  /** struct file pointer, when the probe saw one. */
  file: nullable(HexString),
  dev: Int,
  ino: Int,
  /** Last path component (d_name). */
  name: Type.String(),
  /** Full path built in BPF, or null when it could not be built (too deep, lost parts). */
  path: nullable(Type.String()),
  /** True when the BPF walk stopped at its depth bound before reaching the root. */
  pathTruncated: Type.Boolean(),
});

/**
 * A field holding a file ref or null. Fields are recognised by this very object (the writer
 * interns them, the reader resolves schema-2 dictionary refs in them): use it for every one.
 */
export const FileRefField = nullable(FileRefSchema);

const base = {
  ts: Int,
  /** Thread-group id (what users call the pid). */
  pid: Int,
  tid: Int,
  comm: Type.String(),
};

/** sched:sched_prepare_exec: inside begin_new_exec, before the old mm is released. */
export const ExecBeginSchema = Type.Object({
  kind: Type.Literal('exec_begin'),
  ...base,
  /** The mm being replaced (null for a kernel thread calling exec). */
  oldMm: nullable(HexString),
  /** bprm->filename: the name as passed (e.g. /dev/fd/3 for fexecve). */
  filename: Type.String(),
  /** bprm->interp: differs from filename for #! scripts and binfmt_misc. */
  interp: Type.String(),
});

/** sched:sched_process_exec: exec is done, `mm` is the new mm, `exe` is mm->exe_file. */
export const ExecSchema = Type.Object({
  kind: Type.Literal('exec'),
  ...base,
  /** The tid that called exec (differs from pid when a non-leader thread exec'd). */
  oldTid: Int,
  ppid: Int,
  mm: HexString,
  exe: FileRefField,
  startCode: Int,
  endCode: Int,
  filename: Type.String(),
  // Fields below came after schema 2 first shipped: older traces lack them, so each is optional.
  /**
   * argv[0] of the new image, read from its stack (for a #! script the kernel put the
   * interpreter there). Absent in older traces, and when the exec's exec_begin was lost.
   */
  argv0: Type.Optional(Type.String()),
  /** s_magic of the exe's superblock (0: no exe). */
  exeMagic: Type.Optional(Int),
  /** The exe's mount is kernel-internal (MNT_INTERNAL: memfd's shm mount). */
  exeInternalMount: Type.Optional(Type.Boolean()),
  /** The exe is an overlayfs inode with an upper (writable-layer) dentry. */
  exeOverlayUpper: Type.Optional(Type.Boolean()),
});

/** task:task_newtask in the parent: a new task was created. */
export const ForkSchema = Type.Object({
  kind: Type.Literal('fork'),
  ...base,
  childPid: Int,
  childTid: Int,
  cloneFlags: Int,
  parentMm: nullable(HexString),
  /** CLONE_THREAD: the child joins the parent's thread group. */
  thread: Type.Boolean(),
  /** CLONE_VM: the child runs on the parent's mm (threads and vfork). */
  sharesMm: Type.Boolean(),
});

/** The child's first return to user space (sys_exit_clone/clone3/fork/vfork with ret 0): its mm. */
export const MmAttachSchema = Type.Object({
  kind: Type.Literal('mm_attach'),
  ...base,
  ppid: Int,
  mm: HexString,
  /** mm->exe_file as the child sees it (inherited through dup_mmap). */
  exe: FileRefField,
});

/** mmap:exit_mmap: the mm's final teardown (last mmput; also the old mm at exec). */
export const MmExitSchema = Type.Object({
  kind: Type.Literal('mm_exit'),
  ...base,
  mm: HexString,
  /** mm->exe_file, still set at this point. */
  exe: FileRefField,
});

/** sched:sched_process_exit. */
export const ExitSchema = Type.Object({
  kind: Type.Literal('exit'),
  ...base,
  /** True when this was the last thread of the group. */
  groupDead: Type.Boolean(),
  exitCode: Int,
});

/** mmap(2) that created a file-backed executable mapping, or any MAP_FIXED mapping. */
export const MmapSchema = Type.Object({
  kind: Type.Literal('mmap'),
  ...base,
  mm: HexString,
  /** Return value: the mapping's address, or a negative errno. */
  addr: Int,
  len: Int,
  prot: Int,
  flags: Int,
  fd: Int,
  pgoff: Int,
  /** The mapped file, resolved from fd in BPF; null for anonymous mappings. */
  file: FileRefField,
});

export const MunmapSchema = Type.Object({
  kind: Type.Literal('munmap'),
  ...base,
  mm: HexString,
  addr: Int,
  len: Int,
  ret: Int,
});

export const MremapSchema = Type.Object({
  kind: Type.Literal('mremap'),
  ...base,
  mm: HexString,
  oldAddr: Int,
  oldLen: Int,
  newLen: Int,
  flags: Int,
  /** Return value: the new address, or a negative errno. */
  ret: Int,
});

export const MprotectSchema = Type.Object({
  kind: Type.Literal('mprotect'),
  ...base,
  mm: HexString,
  addr: Int,
  len: Int,
  prot: Int,
  ret: Int,
});

/** prctl(PR_SET_MM, ...): PR_SET_MM_EXE_FILE (13) or PR_SET_MM_MAP (14) carry an exe fd. */
export const PrctlMmSchema = Type.Object({
  kind: Type.Literal('prctl_mm'),
  ...base,
  mm: HexString,
  /** PR_SET_MM sub-option (arg2). */
  subOption: Int,
  /** The fd that names the new exe (arg3 for EXE_FILE, prctl_mm_map.exe_fd for MAP), or -1. */
  exeFd: Int,
  ret: Int,
  /** mm->exe_file before and after the call. */
  exeBefore: FileRefField,
  exeAfter: FileRefField,
});

/**
 * A read of /proc/<pid>/exe: readlink(at) with its answer, or openat/execve of the link; or
 * (kfunc/kprobe flavors only) 'proc_exe_link', the kernel resolving the link for any of those.
 */
export const ExeReadSchema = Type.Object({
  kind: Type.Literal('exe_read'),
  ...base,
  syscall: oneOf(EXE_READ_SYSCALLS),
  /** The path argument as passed; "exe" for proc_exe_link. */
  path: Type.String(),
  /**
   * For *at calls with a relative path: the dirfd's name (e.g. "1234" or "self"); for
   * proc_exe_link: the link's directory (the pid, or the tid under /proc/<pid>/task); else null.
   */
  dirName: nullable(Type.String()),
  /** The pid whose exe link was read, resolved from the path; null when it could not be. */
  targetPid: nullable(Int),
  /** readlink: bytes returned or -errno; openat: fd or -errno; execve and proc_exe_link: 0 or -errno. */
  ret: Int,
  /**
   * readlink: the string the kernel returned; proc_exe_link: exe_path as walked in BPF (no
   * " (deleted)" suffix; null when the walk hit its bound); null for the others or on error.
   */
  answer: nullable(Type.String()),
});

/** One line of /proc/<pid>/maps. */
export const MapsEntrySchema = Type.Object({
  start: Int,
  end: Int,
  perms: Type.String(),
  offset: Int,
  dev: Int,
  ino: Int,
  path: Type.String(),
});

/**
 * A userspace look at /proc/<pid>: taken at start-up for every process ("startup"),
 * and by the live recorder at exec, at exe reads, and when the executable's ranges change.
 */
export const ProcSnapshotSchema = Type.Object({
  kind: Type.Literal('proc_snapshot'),
  ...base,
  reason: oneOf(SNAPSHOT_REASONS),
  /** readlink(/proc/pid/exe), or null with the errno name in exeError. */
  exeLink: nullable(Type.String()),
  exeError: nullable(Type.String()),
  /** stat(/proc/pid/exe): the exe_file's identity. */
  exeDev: nullable(Int),
  exeIno: nullable(Int),
  /** Only file-backed executable mappings plus every mapping of the exe's (dev, ino). */
  maps: Type.Array(MapsEntrySchema),
  // Fields below came after schema 2 first shipped: older traces lack them, so each is optional.
  /** AT_BASE from /proc/pid/auxv: where the kernel mapped the ELF interpreter at exec, 0 when the image had none; null when unreadable. */
  interpBase: Type.Optional(nullable(Int)),
  /** The exe's ELF structure (read only when interpBase is 0; 'dynamic' otherwise). */
  exeElf: Type.Optional(nullable(oneOf(ELF_KINDS))),
  /** st_nlink of the exe (0: unlinked). */
  exeNlink: Type.Optional(nullable(Int)),
  /** statfs f_type of the exe's filesystem. */
  exeFsMagic: Type.Optional(nullable(Int)),
  /** Whether the exe's mount is in the process's mountinfo (false: kernel-internal, e.g. memfd). */
  exeMountListed: Type.Optional(nullable(Type.Boolean())),
  /** start_code/end_code from /proc/pid/stat (start-up snapshots only: no exec event gave them). */
  startCode: Type.Optional(nullable(Int)),
  endCode: Type.Optional(nullable(Int)),
});

/** Events the kernel dropped (bpftrace lost_events), or a gap the decoder could prove. */
export const GapSchema = Type.Object({
  kind: Type.Literal('gap'),
  ts: Int,
  lost: Int,
  source: oneOf(GAP_SOURCES),
});

/** Every event kind's schema: the reader dispatches on `kind` through this list. */
export const EVENT_SCHEMAS = [
  ExecBeginSchema,
  ExecSchema,
  ForkSchema,
  MmAttachSchema,
  MmExitSchema,
  ExitSchema,
  MmapSchema,
  MunmapSchema,
  MremapSchema,
  MprotectSchema,
  PrctlMmSchema,
  ExeReadSchema,
  ProcSnapshotSchema,
  GapSchema,
] as const;

export const TraceEventSchema = Type.Union([...EVENT_SCHEMAS]);
