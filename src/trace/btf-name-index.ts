// Whether bpftrace runs with native/btf-name-index.c preloaded: bpftrace 0.17 looks struct names
// up in BTF with libbpf's linear scans, 13% of its CPU before exetrace's program is attached;
// the library answers the same calls from a hash index (same ids; the compiled program is
// byte-identical, checked with --emit-elf). Used with bpftrace 0.17 only (where it was measured),
// when built and loadable, and not switched off with EXETRACE_BTF_INDEX=0.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BpftraceVersion } from './bpftrace-dialect.js';
import { packageRoot } from './probe-program.js';

/** Where `npm run build` puts the library (scripts/build-native.ts). */
export const BTF_INDEX_LIBRARY = join('dist', 'native', 'btf-name-index.so');

/** The library's path to preload, or null (with nothing said: bpftrace then only starts slower). */
export function btfIndexLibrary(version: BpftraceVersion | null, inherited: NodeJS.ProcessEnv = process.env, root = packageRoot()): string | null {
  if (inherited.EXETRACE_BTF_INDEX === '0') return null;
  if (version === null || version.major !== 0 || version.minor !== 17) return null;
  const library = join(root, BTF_INDEX_LIBRARY);
  if (!existsSync(library)) return null;
  // ld.so names a library it cannot load (another libc, another architecture) on stderr and goes on.
  const trial = spawnSync('/bin/true', [], { env: { ...inherited, LD_PRELOAD: library }, encoding: 'utf8', timeout: 10_000 });
  return trial.status === 0 && trial.stderr.length === 0 ? library : null;
}
