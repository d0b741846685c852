// `npm start` on a host that cannot trace (an unprivileged user): it must say why, then
// replay the bundled sample, or say clearly that the sample is missing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, shq, startPane, type Pane } from './support/tmux.js';

const SAMPLE = join(REPO_ROOT, 'samples/lab.trace.jsonl');
const panes: Pane[] = [];
afterEach(() => {
  for (const p of panes.splice(0)) p.kill();
});

describe('npm start (scripts/start.sh) without tracing rights', () => {
  it('says why it cannot trace, then replays the sample or says the sample is missing', async () => {
    if (!existsSync(SAMPLE)) {
      const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', 'scripts/start.sh'], {
        cwd: REPO_ROOT,
        reject: false,
        stdin: 'ignore',
      });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain('cannot trace this host live: not running as root');
      expect(r.stderr).toContain('samples/lab.trace.jsonl is missing');
      return;
    }
    const p = startPane(`exetrace-start-${process.pid}`, `setpriv --reuid=65534 --regid=65534 --clear-groups sh ${shq('scripts/start.sh')}`);
    panes.push(p);
    await p.waitFor('exetrace replay │', 60_000);
    p.send('q');
    const screen = await p.waitFor(/STTY=.*/);
    expect(screen).toContain('cannot trace this host live: not running as root');
    expect(screen).toMatch(/EXIT=0/);
  });
});
