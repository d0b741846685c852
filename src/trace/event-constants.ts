// The closed lists of names events carry, shared by the event schema (which validates them) and
// the model (which reads them through events.ts). Imports nothing: the model may load it.

/** The calls an exe_read reports; probes print the index into this list. */
export const EXE_READ_SYSCALLS = ['readlink', 'readlinkat', 'openat', 'execve', 'proc_exe_link'] as const;

/** Why a /proc snapshot was taken. */
export const SNAPSHOT_REASONS = ['startup', 'exec', 'exe_read', 'vma_change'] as const;

/** Where a gap was seen: bpftrace's lost_events, or the decoder's per-CPU sequence numbers. */
export const GAP_SOURCES = ['bpftrace', 'decoder'] as const;

/**
 * What an ELF file is, from its header, program headers and dynamic section:
 * 'dynamic' has PT_INTERP; 'shared-object' is ET_DYN without PT_INTERP and without DF_1_PIE
 * (a loader such as ld.so run as a program); 'static-pie' ET_DYN with DF_1_PIE and no
 * PT_INTERP; 'static' ET_EXEC without PT_INTERP; 'not-elf' anything else.
 */
export const ELF_KINDS = ['dynamic', 'shared-object', 'static-pie', 'static', 'not-elf'] as const;

/** Filesystem magics (statfs f_type, s_magic). */
export const TMPFS_MAGIC = 0x01021994;
export const HUGETLBFS_MAGIC = 0x958458f6;
export const OVERLAYFS_MAGIC = 0x794c7630;
