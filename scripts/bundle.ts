// `npm run build`, second step: the compiled CLI (dist/src) bundled into dist/bundle, one file
// per command plus shared chunks. Node spent about 0.3 s of every start loading the ~300 small
// ES modules of the CLI and its dependencies; a recording's start-up to its first traced event
// counts all of it (BENCHMARKS.md, figure 7). The bundle keeps the package layout above it
// (dist/bundle → the package root), which is how the CLI finds probes/ and config/.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  // The workers are loaded by URL next to the chunk that starts them (src/trace/start-worker.ts).
  entryPoints: {
    main: join(root, 'dist', 'src', 'cli', 'main.js'),
    'trace-read-worker': join(root, 'dist', 'src', 'trace', 'trace-read-worker.js'),
    'line-print-worker': join(root, 'dist', 'dashboards', 'line-print-worker.js'),
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // blessed loads its terminfo and widgets with computed require() paths; ink's devtools hook
  // is optional and not installed.
  external: ['blessed', 'react-devtools-core'],
  // CommonJS dependencies call require(); ES module chunks have none of their own.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync(join(outdir, 'main.js'), 0o755);
