// Libraries preloaded into bpftrace 0.17 so that it compiles exetrace's program faster without
// compiling anything different (--emit-elf output byte-identical with and without them):
// - native/btf-name-index.c answers libbpf's BTF name lookups (linear scans, 13% of bpftrace's
//   CPU before attaching) from a hash index;
// - native/clang-parse-reuse.c hands back the last libclang parse for an identical one (five or
//   six of bpftrace's fourteen parses, about 0.15 s of CPU).
// Each is used with bpftrace 0.17 only (where it was measured), when built and loadable, and
// not switched off with its variable set to 0.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BpftraceVersion } from './bpftrace-dialect.js';
import { packageRoot } from './probe-program.js';

/** Where `npm run build` puts each library (scripts/build-native.ts), and its off switch. */
export const COMPILE_PRELOADS = [
  { library: join('dist', 'native', 'btf-name-index.so'), off: 'EXETRACE_BTF_INDEX' },
  { library: join('dist', 'native', 'clang-parse-reuse.so'), off: 'EXETRACE_PARSE_REUSE' },
] as const;

/** The libraries to preload (none said: without them bpftrace only starts slower). */
export function compilePreloads(version: BpftraceVersion | null, inherited: NodeJS.ProcessEnv = process.env, root = packageRoot()): string[] {
  if (version === null || version.major !== 0 || version.minor !== 17) return [];
  return COMPILE_PRELOADS.filter((p) => inherited[p.off] !== '0')
    .map((p) => join(root, p.library))
    .filter((library) => existsSync(library) && loads(library, inherited));
}

/** ld.so names a library it cannot load (another libc, another architecture) on stderr and goes on. */
function loads(library: string, inherited: NodeJS.ProcessEnv): boolean {
  const trial = spawnSync('/bin/true', [], { env: { ...inherited, LD_PRELOAD: library }, encoding: 'utf8', timeout: 10_000 });
  return trial.status === 0 && trial.stderr.length === 0;
}
