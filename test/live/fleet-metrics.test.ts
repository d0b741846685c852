// Live: `record --metrics` scraped by a real Prometheus (temp config and storage, 1 s scrape
// interval), queried through its HTTP API while real execs and a real finding (a memfd exec
// from the scenario lab) happen.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildLab } from '../lab/build.js';
import { requireLive, skipLive } from '../support/live-gate.js';
import { freePort } from '../support/nats-server.js';
import { startRecord } from '../support/record.js';

const PROMETHEUS = '/usr/bin/prometheus';
const dir = mkdtempSync(join(tmpdir(), 'fleet-metrics-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function skipNoPrometheus(): boolean {
  if (skipLive()) return true;
  if (existsSync(PROMETHEUS)) return false;
  if (requireLive) throw new Error('prometheus is not installed (scripts/setup.sh) but EXETRACE_REQUIRE_LIVE=1');
  return true;
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(port: number, q: string): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { status: string; data: { result: Sample[] } };
  if (body.status !== 'success') throw new Error(`prometheus query ${q}: ${JSON.stringify(body)}`);
  return body.data.result;
}

/** Poll until the query has a sample passing `ok`; the samples seen last are in the error. */
async function until(port: number, q: string, ok: (v: number, s: Sample) => boolean, ms = 60_000): Promise<Sample> {
  const end = Date.now() + ms;
  let last: Sample[] = [];
  while (Date.now() < end) {
    last = await query(port, q).catch(() => []);
    const hit = last.find((s) => ok(Number(s.value[1]), s));
    if (hit) return hit;
    await sleep(500);
  }
  throw new Error(`prometheus: ${q} never satisfied; last ${JSON.stringify(last)}`);
}

function execLoop(n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('/bin/sh', ['-c', 'i=0; while [ $i -lt "$1" ]; do /bin/true; i=$((i+1)); done', 'loop', String(n)], { stdio: 'ignore' });
    c.once('error', reject);
    c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exec loop exited ${code}`))));
  });
}

describe.skipIf(skipNoPrometheus())('record --metrics scraped by Prometheus (live)', () => {
  let prom: ChildProcess | null = null;
  afterAll(() => {
    prom?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('exposes events by kind, lost events, findings by class, live mms, attach state and flavor', async () => {
    const bins = buildLab();
    const metricsPort = await freePort();
    const promPort = await freePort();
    const rec = startRecord({ out: join(dir, 'm.trace'), args: ['--metrics', `127.0.0.1:${metricsPort}`, '--hostname', 'metrics-host'] });
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: exetrace\n    static_configs:\n      - targets: ['127.0.0.1:${metricsPort}']\n`,
    );
    prom = spawn(
      PROMETHEUS,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`],
      { stdio: 'ignore' },
    );
    await rec.ready;
    await until(promPort, 'up{job="exetrace"}', (v) => v === 1);
    await until(promPort, 'exetrace_attached', (v) => v === 1);
    // Findings so far (this host may run memfd executables of its own).
    const MEMFD = 'exetrace_findings_total{class="exe-memfd",expected="false"}';
    const before = Number((await until(promPort, MEMFD, () => true)).value[1]);

    const memfd = spawn(bins.memfdexec, [bins.sleeper, 'exetrace-metrics'], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: { ...process.env, LAB_TIMEOUT_S: '30' },
    });
    await new Promise<void>((resolve) => memfd.stdout!.once('data', () => resolve()));
    await execLoop(150);
    await until(promPort, 'exetrace_events_total{kind="exec"}', (v) => v >= 150);
    await until(promPort, MEMFD, (v) => v > before);
    const live = await until(promPort, 'exetrace_live_mms', (v) => v > 0);
    expect(live.metric.job).toBe('exetrace');
    const info = await until(promPort, 'exetrace_probe_info', (v) => v === 1);
    expect(info.metric).toMatchObject({ flavor: 'tracepoint', hostname: 'metrics-host' });
    // Every class has both labels, so rate() and alerts work before the first finding.
    const classes = await query(promPort, 'exetrace_findings_total{expected="true"}');
    expect(classes.length).toBeGreaterThan(3);
    const lost = await query(promPort, 'exetrace_lost_events_total');
    expect(lost.map((s) => s.metric.source).sort()).toEqual(['bpftrace', 'decoder']);
    memfd.stdin!.end();

    const end = await rec.stop();
    expect(end.code, end.stderr).toBe(0);
    expect(end.stderr).toMatch(new RegExp(`metrics on http://127\\.0\\.0\\.1:${metricsPort}/metrics`));
    await until(promPort, 'up{job="exetrace"}', (v) => v === 0);
  });
});
