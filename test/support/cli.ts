// Run the exetrace CLI: from source through tsx (no build needed), or, under `npm test` (which
// builds first and sets EXETRACE_TEST_BUILT=1), the built bundle (dist/bundle, what the package's bin runs), which starts ~10x faster.
import { execa, type Options, type ResultPromise } from 'execa';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const USE_BUILT = process.env.EXETRACE_TEST_BUILT === '1';
export const CLI_ENTRY = USE_BUILT ? join(REPO_ROOT, 'dist', 'bundle', 'main.js') : join(REPO_ROOT, 'src', 'cli', 'main.ts');

/** The argv that runs the CLI: [node, [main.js, ...args]] or [node, ['--import', 'tsx', main.ts, ...args]]. */
export function cliCommand(args: readonly string[]): [string, string[]] {
  return [process.execPath, USE_BUILT ? [CLI_ENTRY, ...args] : ['--import', 'tsx', CLI_ENTRY, ...args]];
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion. Never rejects on a non-zero exit. */
export async function runCli(args: readonly string[], opts: Options = {}): Promise<CliResult> {
  const [cmd, argv] = cliCommand(args);
  const r = await execa(cmd, argv, { cwd: REPO_ROOT, reject: false, stdin: 'ignore', timeout: 120_000, ...opts });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** Start the CLI and return the child (for tests that signal it). */
export function spawnCli(args: readonly string[], opts: Options = {}): ResultPromise {
  const [cmd, argv] = cliCommand(args);
  return execa(cmd, argv, { cwd: REPO_ROOT, reject: false, stdin: 'ignore', ...opts }) as ResultPromise;
}

/** Run the CLI as an unprivileged user (nobody) to test the non-root paths. */
export async function runCliAsNobody(args: readonly string[]): Promise<CliResult> {
  const [cmd, argv] = cliCommand(args);
  const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', cmd, ...argv], {
    cwd: REPO_ROOT,
    reject: false,
    stdin: 'ignore',
    timeout: 120_000,
    // HOME=/ : tsx caches under the home dir, which nobody cannot write in root's.
    env: { HOME: '/tmp', TMPDIR: '/tmp' },
  });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}
