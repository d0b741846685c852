// `live --from` over real streamed data: two hosts publish the bundled sample to a real
// nats-server; the off-terminal line mode (the built CLI) and the fleet store (per-host
// reducers, the fleet view, the ink screen) must show each host with the counts analyze finds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dashboard } from '../../dashboards/components/Dashboard.js';
import { FleetStore, selectFleetView } from '../../dashboards/fleet-store.js';
import { initialUiState } from '../../dashboards/ui-state.js';
import { parseNatsAddress } from '../../src/fleet/connection.js';
import { readFleetStream } from '../../src/fleet/stream-reader.js';
import { replayTrace, type TraceRecord } from '../../src/trace/trace-reader.js';
import { REPO_ROOT, runCli, spawnCli } from '../support/cli.js';
import { skipNoNats, testPublisher } from '../support/fleet.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';

const SAMPLE = join(REPO_ROOT, 'samples', 'lab.trace.jsonl');
const HOSTS = ['alpha', 'beta.host'];
const dir = mkdtempSync(join(tmpdir(), 'fleet-live-unit-'));

async function publish(url: string, hostname: string): Promise<void> {
  const p = testPublisher(url, dir);
  await replayTrace(SAMPLE, { onHeader: (h) => p.onHeader({ ...h, hostname }), onEvent: (e) => p.onEvent(e), onEnd: (t) => p.onEnd(t) });
  expect((await p.close(20_000)).unsent).toBe(0);
}

describe.skipIf(skipNoNats())('live --from over a real stream', () => {
  let nats: NatsServer;
  let sample: { events: number; findings: number };
  beforeAll(async () => {
    nats = await startNatsServer(dir);
    for (const h of HOSTS) await publish(nats.url, h);
    const a = JSON.parse((await runCli(['analyze', SAMPLE, '--format', 'json'])).stdout);
    sample = { events: a.trace.events, findings: a.counts.total };
    expect(sample.findings).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('off a terminal prints every host, prefixed, with its own findings and end', async () => {
    const child = spawnCli(['live', '--from', nats.url, '--findings-only'], { buffer: false });
    let out = '';
    child.stdout!.setEncoding('utf8');
    const bothEnded = new Promise<void>((resolve) =>
      child.stdout!.on('data', (d: string) => {
        out += d;
        if ((out.match(/# end: signal/g) ?? []).length === HOSTS.length) resolve();
      }),
    );
    await bothEnded;
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130); // the dashboards' exit status for SIGINT
    for (const h of HOSTS) {
      const mine = out.split('\n').filter((l) => l.startsWith(`${h.padEnd(16)} `));
      expect(mine[0]).toMatch(new RegExp(`# exetrace .* host ${h.replace('.', '\\.')} `));
      expect(mine.filter((l) => / FINDING\?? /.test(l))).toHaveLength(sample.findings);
      expect(mine.at(-1)).toContain(`# end: signal, ${sample.events} events, 0 lost, ${sample.findings} findings`);
    }
  });

  it('the fleet store keeps one reducer per host; the screen has a host column, host lines and one feed', async () => {
    const store = new FleetStore({ source: 'live', fps: 1000 });
    const replays: Promise<unknown>[] = [];
    await readFleetStream({
      address: parseNatsAddress(nats.url, { allowHostname: true }),
      security: {},
      follow: false,
      open: (info) => {
        const recs: TraceRecord[] = [];
        let end!: () => void;
        const ended = new Promise<void>((r) => (end = r));
        async function* records() {
          await ended;
          yield* recs;
        }
        replays.push(replayTrace(info.name, store.open(info), { records: records() }));
        return { push: (b) => void recs.push(...b), end };
      },
      onProblem: (m) => {
        throw new Error(m);
      },
    });
    await Promise.all(replays);
    store.flush();
    const state = store.currentState;
    expect([...state.hosts.keys()].sort()).toEqual([...HOSTS].sort());
    for (const slot of state.hosts.values()) {
      expect(slot.events).toBe(sample.events);
      expect(slot.state.findingsDropped + slot.state.findings.length).toBe(sample.findings);
      expect(slot.ended).toBe('signal');
    }
    const view = selectFleetView(state);
    expect(view.hosts).toHaveLength(2);
    expect(view.hosts![0]).toMatch(
      new RegExp(`^(alpha|beta\\.host): tracepoint .*, ${sample.events} events, 0 lost, \\d+ mms, ${sample.findings} findings, ended \\(signal\\)$`),
    );
    expect(new Set(view.rows.map((r) => r.host))).toEqual(new Set(HOSTS));
    expect(view.findings).toHaveLength(2 * sample.findings);
    for (let i = 1; i < view.findings.length; i++) expect(view.findings[i]!.ts).toBeGreaterThanOrEqual(view.findings[i - 1]!.ts);
    const someRow = view.rows.find((r) => r.host === 'beta.host')!;
    expect(view.detail(someRow.key)?.row.host).toBe('beta.host');

    const stats = store.getSnapshot().stats;
    const { lastFrame } = render(
      <Dashboard
        stats={stats}
        rows={view.rows.slice(0, 5)}
        mmCount={view.rows.length}
        findings={view.findings}
        detail={null}
        ui={initialUiState}
        selectedKey={null}
        width={160}
        height={40}
        hosts={view.hosts}
      />,
    );
    const frame = lastFrame()!;
    expect(frame).toMatch(/HOST\s+PID\(S\)/);
    expect(frame).toContain('fleet: 2 hosts');
    expect(frame).toMatch(/^alpha: tracepoint/m);
    expect(frame).toMatch(/^beta\.host: tracepoint/m);
    expect(frame).toMatch(/ (alpha|beta\.host) [!?]exe-memfd/);
    store.dispose();
  });
});
