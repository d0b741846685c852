// `npm run build`, last step: the libraries exetrace preloads into bpftrace 0.17, from native/
// into dist/native: wakeup-batching.c (src/trace/wakeup-batching.ts), btf-name-index.c and
// clang-parse-reuse.c (src/trace/compile-preloads.ts). Without a C compiler the build goes on: bpftrace then wakes on
// every event (said so in the trace header and in doctor) and starts slower.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cc = process.env.CC ?? 'cc';
const LIBRARIES = [
  { name: 'wakeup-batching', without: 'bpftrace will wake on every event' },
  { name: 'btf-name-index', without: 'bpftrace will start slower' },
  { name: 'clang-parse-reuse', without: 'bpftrace will start slower' },
];
for (const { name, without } of LIBRARIES) {
  const out = join(root, 'dist', 'native', `${name}.so`);
  mkdirSync(dirname(out), { recursive: true });
  rmSync(out, { force: true });
  const r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-o', out, join(root, 'native', `${name}.c`), '-ldl'], {
    stdio: 'inherit',
  });
  if (r.error !== undefined || r.status !== 0) {
    rmSync(out, { force: true });
    process.stderr.write(`build: ${cc} could not build native/${name}.c (${r.error?.message ?? `exit ${r.status}`}); ${without}\n`);
  }
}
