// The ways a /proc/PID/exe read reaches the probes, indexed by the probes' `sys` code.
export const EXE_READ_SYSCALLS = ['readlink', 'readlinkat', 'openat', 'execve', 'proc_exe_link'] as const;
export type ExeReadSyscall = (typeof EXE_READ_SYSCALLS)[number];
