// The full-screen dashboard on a terminal: ink draws it, blessed-style terminal handling around
// it. Loaded only when stdout is a terminal: ink and its layout engine cost a line-printing run
// a quarter of a second to load.
import './tty-wins-over-ci.js'; // before ink loads: it reads CI once, at load time
import { render, type Instance } from 'ink';
import { DashboardApp } from './components/DashboardApp.js';
import type { DashboardStore } from './dashboard-store.js';
import type { ModelView } from './display-types.js';
import { installExitGuard } from './exit-guard.js';
import { errorText, type SessionHandle, type SessionOptions } from './session.js';
import { enterFullScreen } from './terminal.js';

export async function runFullScreen<S, C>(
  opts: SessionOptions<C>,
  stdout: NodeJS.WriteStream,
  store: DashboardStore<S> & C,
  select: (state: S) => ModelView,
): Promise<number> {
  const stdin = opts.stdin ?? process.stdin;
  const stderr = opts.stderr ?? process.stderr;
  let quitting = false;
  let resolveQuit!: () => void;
  const quit = new Promise<void>((r) => (resolveQuit = r));
  let ink: Instance | null = null;
  let handle: SessionHandle | null = null;

  const screen = enterFullScreen(stdout, stdin);
  const guard = installExitGuard({
    restore: () => {
      try {
        ink?.unmount(); // ink leaves raw mode and shows the cursor; its last frame stays in the alternate screen
      } catch {
        // a crashed React tree may refuse to unmount; the screen restore below still runs
      }
      ink = null;
      screen.restore();
    },
    stop: async () => {
      quitting = true;
      await handle?.stop();
    },
    kill: () => handle?.kill?.(),
    ...opts.stopBudget,
    stderr,
  });

  let exitCode = 0;
  let failure: string | null = null;
  try {
    handle = opts.start(store, {
      whenRunning: () => store.whenRunning(),
      stopped: () => quitting,
      markAttached: () => store.markAttached(),
    });
    handle.done.catch((err: unknown) => {
      failure = errorText(err);
      exitCode = 1;
      store.markEnded(`failed: ${failure.split('\n')[0]}`);
      // Failed before anything arrived (not root, no bpftrace): no dashboard to look at.
      if (!store.started) resolveQuit();
    });
    ink = render(
      <DashboardApp
        store={store}
        select={select}
        interactive={stdin.isTTY === true}
        onQuit={() => {
          quitting = true;
          resolveQuit();
        }}
      />,
      { stdout, stdin, stderr, exitOnCtrlC: false, patchConsole: true, maxFps: 10 },
    );
    await quit;
  } finally {
    store.dispose();
    await guard.close();
    guard.dispose();
  }
  // Said again on the normal screen, where it stays readable after the dashboard is gone.
  if (failure !== null) stderr.write(`exetrace: ${failure}\n`);
  return exitCode;
}
