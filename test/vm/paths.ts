// Where the VM harness keeps its cache and finds the project.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const VM_CACHE = process.env.EXETRACE_VM_CACHE ?? join(PROJECT_ROOT, '.cache', 'vm');

const started = Date.now();
/** Progress on stderr with seconds since start: the harness is slow and should say where it is. */
export function log(msg: string): void {
  process.stderr.write(`[vm +${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
}
