// The closed lists of names events carry, shared by the event schema (which validates them) and
// the model (which reads them through events.ts). Imports nothing: the model may load it.

/** The calls an exe_read reports; probes print the index into this list. */
export const EXE_READ_SYSCALLS = ['readlink', 'readlinkat', 'openat', 'execve', 'proc_exe_link'] as const;

/** Why a /proc snapshot was taken. */
export const SNAPSHOT_REASONS = ['startup', 'exec', 'exe_read', 'vma_change'] as const;

/** Where a gap was seen: bpftrace's lost_events, or the decoder's per-CPU sequence numbers. */
export const GAP_SOURCES = ['bpftrace', 'decoder'] as const;
