// Runs a command in a detached tmux pane of a fixed size and reads the screen back, so the
// e2e tests see exactly what a user's terminal would show.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

const tmux = (...args: string[]): string => execFileSync('tmux', args, { encoding: 'utf8' });

/** Single-quote for sh. */
export const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export interface Pane {
  name: string;
  capture(): string;
  /** tmux format variables, e.g. "#{alternate_on}". */
  display(format: string): string;
  send(...keys: string[]): void;
  waitFor(pattern: RegExp | string | ((screen: string) => boolean), timeoutMs?: number): Promise<string>;
  kill(): void;
}

/**
 * Start `cmd` (run from the repo root by sh) in a 200×50 pane. After it ends, the wrapper
 * prints "EXIT=<code>" and the tty's icanon/echo flags (raw mode would show "-icanon -echo"),
 * then sleeps, so the test can inspect the pane after the program is gone.
 */
export function startPane(name: string, cmd: string): Pane {
  const wrapper =
    `cd ${shq(REPO_ROOT)} && ${cmd}; echo "EXIT=$?"; ` +
    `echo "STTY=$(stty -a | tr -s ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo)' | tr '\\n' ' ')"; sleep 600`;
  tmux('new-session', '-d', '-x', '200', '-y', '50', '-s', name, 'sh', '-c', wrapper);
  const pane: Pane = {
    name,
    capture: () => tmux('capture-pane', '-p', '-t', name),
    display: (format) => tmux('display', '-p', '-t', name, format).trim(),
    send: (...keys) => void tmux('send-keys', '-t', name, ...keys),
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        last = pane.capture();
        const hit = typeof pattern === 'string' ? last.includes(pattern) : typeof pattern === 'function' ? pattern(last) : pattern.test(last);
        if (hit) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${String(pattern)}; the pane shows:\n${last}`);
    },
    kill: () => {
      try {
        tmux('kill-session', '-t', name);
      } catch {
        // already gone
      }
    },
  };
  return pane;
}

/** The CLI: built under `npm test` (EXETRACE_TEST_BUILT=1, as users get it), else from source. */
export const CLI = process.env.EXETRACE_TEST_BUILT === '1' ? 'node dist/bundle/main.js' : 'node --import tsx src/cli/main.ts';

/** The process the pane's shell started, matched by part of its command line. */
export function nodePid(p: Pane, argvPart: string): number {
  const out = execFileSync('pgrep', ['-P', p.display('#{pane_pid}'), '-f', argvPart], { encoding: 'utf8' });
  return Number(out.trim().split('\n')[0]);
}
