// The real CLI in a real terminal (tmux): `exetrace live --from nats://…` over two hosts that
// published the bundled sample to a real nats-server: host column, one header line per host,
// one fleet-wide findings feed, Enter on a row of the second host, q gives the terminal back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayTrace } from '../../src/trace/trace-reader.js';
import { REPO_ROOT } from '../support/cli.js';
import { skipNoNats, testPublisher } from '../support/fleet.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { CLI, startPane, type Pane } from './support/tmux.js';

const SAMPLE = join(REPO_ROOT, 'samples', 'lab.trace.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'fleet-e2e-'));

describe.skipIf(skipNoNats())('exetrace live --from in tmux', () => {
  let nats: NatsServer;
  let pane: Pane | null = null;
  beforeAll(async () => {
    nats = await startNatsServer(dir);
    for (const hostname of ['alpha', 'beta']) {
      const p = testPublisher(nats.url, dir);
      await replayTrace(SAMPLE, { onHeader: (h) => p.onHeader({ ...h, hostname }), onEvent: (e) => p.onEvent(e), onEnd: (t) => p.onEnd(t) });
      expect((await p.close(20_000)).unsent).toBe(0);
    }
  });
  afterAll(async () => {
    pane?.kill();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows every host in one dashboard and restores the terminal on q', async () => {
    pane = startPane(`exetrace-fleet-e2e-${process.pid}`, `${CLI} live --from ${nats.url}`);
    // Both hosts' recordings read to their end (the sample's trailer says signal).
    let screen = await pane.waitFor((s) => /^alpha: tracepoint .*ended \(signal\)/m.test(s) && /^beta: tracepoint .*ended \(signal\)/m.test(s), 60_000);
    expect(pane.display('#{alternate_on}')).toBe('1');
    expect(screen).toContain('fleet: 2 hosts');
    expect(screen).toMatch(/HOST\s+PID\(S\)\s+COMM/);
    expect(screen).toMatch(/^\s?>?alpha\s+\d/m);
    expect(screen).toMatch(/ (alpha|beta) !exe-memfd pid \d+/);
    // Filter to the second host's rows, open one: its detail is that host's mm.
    pane.send('f');
    pane.send('beta');
    pane.send('Enter');
    screen = await pane.waitFor('filter "beta"');
    expect(screen).not.toMatch(/^ alpha\s+\d/m);
    pane.send('Enter');
    await pane.waitFor(/^timeline \(/m);
    pane.send('Escape');
    await pane.waitFor(/^mms: \d+ shown/m);
    pane.send('q');
    screen = await pane.waitFor(/STTY=.*/);
    expect(Number(/EXIT=(\d+)/.exec(screen)?.[1])).toBe(0);
    expect(pane.display('#{alternate_on}')).toBe('0');
    expect(screen).toMatch(/STTY=icanon echo/);
  });
});
