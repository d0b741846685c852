// The terminal layer, built on blessed's terminfo reader (Tput): ink draws, but it knows no
// terminal capabilities and has no alternate screen. blessed looks the capabilities up in the
// terminfo entry for $TERM, so we get the right strings for xterm, tmux, screen or a console,
// and none at all for TERM=dumb. restore() undoes everything and is safe to call many times,
// from any exit path (normal, signal, crash).
import { createRequire } from 'node:module';

interface TputLike {
  enter_ca_mode?: () => string;
  exit_ca_mode?: () => string;
  cursor_invisible?: () => string;
  cursor_normal?: () => string;
  exit_attribute_mode?: () => string;
}

// blessed is CommonJS and its typings omit the tput() factory, so load it through require.
const require = createRequire(import.meta.url);
const blessed = require('blessed') as { tput(opts: { terminal: string; extended: boolean }): TputLike };

export interface TerminalCapabilities {
  enterAlternate: string;
  exitAlternate: string;
  hideCursor: string;
  showCursor: string;
  resetAttributes: string;
}

const cap = (t: TputLike, name: keyof TputLike): string => {
  const fn = t[name];
  try {
    return typeof fn === 'function' ? String(fn.call(t) ?? '') : '';
  } catch {
    return '';
  }
};

/** The capability strings for a terminal type, from its terminfo entry. */
export function terminalCapabilities(term: string | undefined): TerminalCapabilities {
  const t = blessed.tput({ terminal: term || 'dumb', extended: true });
  return {
    enterAlternate: cap(t, 'enter_ca_mode'),
    exitAlternate: cap(t, 'exit_ca_mode'),
    hideCursor: cap(t, 'cursor_invisible'),
    showCursor: cap(t, 'cursor_normal'),
    resetAttributes: cap(t, 'exit_attribute_mode'),
  };
}

export interface FullScreen {
  /** Leave the alternate screen, show the cursor, reset attributes, leave raw mode. Idempotent. */
  restore(): void;
}

/** Switch a TTY to the alternate screen with a hidden cursor. */
export function enterFullScreen(output: NodeJS.WriteStream, input: NodeJS.ReadStream, term: string | undefined = process.env.TERM): FullScreen {
  const caps = terminalCapabilities(term);
  output.write(caps.enterAlternate + caps.hideCursor);
  let restored = false;
  return {
    restore() {
      if (restored) return;
      restored = true;
      // A crash can leave raw mode on (ink sets it for useInput): the shell would get no echo.
      try {
        if (input.isTTY && input.isRaw) input.setRawMode(false);
      } catch {
        // stdin already closed: nothing to restore there
      }
      // TTY writes are synchronous on Linux, so this lands even if we exit right after.
      output.write(caps.resetAttributes + caps.showCursor + caps.exitAlternate);
    },
  };
}
