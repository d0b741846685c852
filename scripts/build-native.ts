// `npm run build`, last step: native/wakeup-batching.c into dist/native (see
// src/trace/wakeup-batching.ts). Without a C compiler the build goes on and exetrace runs
// bpftrace with its own per-event wakeups, saying so in the trace header and in doctor.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'native', 'wakeup-batching.so');
mkdirSync(dirname(out), { recursive: true });
rmSync(out, { force: true });
const cc = process.env.CC ?? 'cc';
const r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-o', out, join(root, 'native', 'wakeup-batching.c'), '-ldl'], {
  stdio: 'inherit',
});
if (r.error !== undefined || r.status !== 0) {
  rmSync(out, { force: true });
  process.stderr.write(
    `build: ${cc} could not build native/wakeup-batching.c (${r.error?.message ?? `exit ${r.status}`}); bpftrace will wake on every event\n`,
  );
}
