// The progress bar's bytes come from the kernel's position of the descriptor the reader has open
// on the trace (/proc/self/fdinfo): checked with a real descriptor moved by a real read.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { initialState } from '../../src/model/index.js';
import { readProgress } from '../../src/report/progress.js';
import { REPO_ROOT } from '../support/cli.js';

const SAMPLE = join(REPO_ROOT, 'samples', 'lab.trace.jsonl');
const MIB = 1024 * 1024;

function terminal(isTTY: boolean): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(c, _e, cb) {
      chunks.push(String(c));
      cb();
    },
  });
  Object.assign(stream, { isTTY, columns: 200 });
  return { stream, text: () => chunks.join('') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('progress bar', () => {
  it('shows bytes read (from the open descriptor), events, findings and an ETA on a terminal', async () => {
    const tty = terminal(true);
    const progress = readProgress([SAMPLE], tty.stream);
    const fd = openSync(SAMPLE, 'r');
    try {
      progress.file(0);
      // Half the file (whatever size the bundled sample has): the bar must show a part read.
      const half = Math.floor(statSync(SAMPLE).size / 2);
      readSync(fd, Buffer.alloc(half), 0, half, null);
      const state = initialState();
      progress.update({ ...state, counters: { ...state.counters, events: 1234 } });
      await sleep(250);
      const screen = tty.text();
      const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
      const size = statSync(SAMPLE).size;
      const shown = (n: number) => (n < MIB ? kib(n) : `${(n / MIB).toFixed(1)} MiB`);
      expect(screen).toContain(`${shown(half)} of ${shown(size)} | 1234 events | 0 findings | ETA`);
      expect(screen).toMatch(/\d+% \|/);
    } finally {
      closeSync(fd);
      progress.stop();
    }
    expect(tty.text()).toContain('100% |');
    // No terminal state a Ctrl-C could leave behind: autowrap stays on, the cursor stays visible.
    expect(tty.text()).not.toContain('\x1b[?7l');
    expect(tty.text()).not.toContain('\x1b[?25l');
  });

  it('writes nothing when the stream is not a terminal', async () => {
    const pipe = terminal(false);
    const progress = readProgress([SAMPLE], pipe.stream);
    progress.file(0);
    progress.update(initialState());
    await sleep(150);
    progress.stop();
    expect(pipe.text()).toBe('');
  });
});
