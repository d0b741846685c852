// Live fleet: real bpftrace recordings published to a real nats-server with JetStream, the
// server killed with -9 mid-recording and restarted, a second simulated host, and the
// consumers (analyze nats://, the stream reader) checked against the local trace files.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTrace, type TraceRecord } from '../../src/trace/trace-reader.js';
import { runCli, spawnCli } from '../support/cli.js';
import { eventsOf, readAll } from '../support/fleet.js';
import { requireLive, skipLive } from '../support/live-gate.js';
import { natsServerInstalled, startNatsServer, type NatsServer } from '../support/nats-server.js';
import { startRecord } from '../support/record.js';

const dir = mkdtempSync(join(tmpdir(), 'fleet-live-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function skipFleet(): boolean {
  if (skipLive()) return true;
  if (natsServerInstalled()) return false;
  if (requireLive) throw new Error('fleet live test cannot run but EXETRACE_REQUIRE_LIVE=1: nats-server is not installed (scripts/setup.sh)');
  return true;
}

/** n execs of /bin/true from a shell loop (real execs for the probes). */
function execLoop(n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('/bin/sh', ['-c', 'i=0; while [ $i -lt "$1" ]; do /bin/true; i=$((i+1)); done', 'loop', String(n)], { stdio: 'ignore' });
    c.once('error', reject);
    c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exec loop exited ${code}`))));
  });
}

async function fileRecords(path: string): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of readTrace(path)) out.push(r);
  return out;
}

/** The parts of an analyze JSON report these tests look at. */
interface AnalyzeDoc {
  trace: { file: string; events: number; header: { hostname: string } };
}

/** Concatenated JSON documents (analyze --format json over a stream prints one per recording). */
function jsonDocs(text: string): AnalyzeDoc[] {
  const docs: AnalyzeDoc[] = [];
  let depth = 0;
  let start = 0;
  let inStr = false;
  let esc = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      if (esc) esc = false;
      else if (c === '\\') esc = true;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if (c === '{' && depth++ === 0) start = i;
    else if (c === '}' && --depth === 0) docs.push(JSON.parse(text.slice(start, i + 1)) as AnalyzeDoc);
  }
  return docs;
}

/** The analyze report without the one field that names the source. */
function comparable(doc: AnalyzeDoc): string {
  const { file: _file, ...trace } = doc.trace;
  return JSON.stringify({ ...doc, trace });
}

describe.skipIf(skipFleet())('fleet over NATS JetStream (live)', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer(dir);
  });
  afterAll(async () => {
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps recording through a kill -9 and restart of the server: the stream has every event exactly once, as the file does', async () => {
    const out = join(dir, 'a.trace');
    const spool = join(dir, 'spool-a');
    rmSync(spool, { recursive: true, force: true });
    const rec = startRecord({ out, args: ['--publish', nats.url, '--hostname', 'fleet-a', '--spool-dir', dir] });
    await rec.ready;
    await execLoop(200);
    await sleep(500);
    await nats.kill9();
    // Execs while the server is gone: their batches can only go to the spool.
    await execLoop(300);
    await sleep(1500);
    await nats.restart();
    await execLoop(200);
    await sleep(1500);
    const end = await rec.stop();
    expect(end.code, end.stderr).toBe(0);
    expect(end.stderr).toMatch(/publish: .*spooling in/);
    const published = /published (\d+) batches to .* \((\d+) retries/.exec(end.stderr);
    expect(published, end.stderr).not.toBeNull();
    expect(Number(published![2])).toBeGreaterThan(0); // the outage really hit publishing
    expect(end.stderr).not.toMatch(/not acknowledged|not in the stream/);
    // The spool directory is gone once everything was acknowledged.
    expect(readdirSync(dir).filter((n) => n.startsWith('exetrace-spool-'))).toEqual([]);

    const file = await fileRecords(out);
    const stream = await readAll(`${nats.url}/fleet-a`);
    expect(stream.problems).toEqual([]);
    expect(stream.recordings).toHaveLength(1);
    const [only] = stream.recordings;
    expect(only!.info.host).toBe('fleet-a');
    expect(stream.summary.batches).toBe(Number(published![1]));
    // Same records, same line numbers, same order: nothing lost, nothing twice.
    expect(only!.records.filter((r) => r.type === 'error')).toEqual([]);
    expect(only!.records.length).toBe(file.length);
    expect(JSON.stringify(only!.records)).toBe(JSON.stringify(file));
    const execs = eventsOf(file).filter((e) => e.kind === 'exec' && e.comm === 'true').length;
    expect(execs).toBeGreaterThanOrEqual(700);

    const fromFile = await runCli(['analyze', out, '--format', 'json']);
    const fromStream = await runCli(['analyze', `${nats.url}/fleet-a`, '--format', 'json']);
    expect(fromStream.code, fromStream.stderr).toBe(0);
    const [f] = jsonDocs(fromFile.stdout);
    const s = jsonDocs(fromStream.stdout);
    expect(s).toHaveLength(1);
    expect(s[0]!.trace.file).toMatch(/^nats:\/\/127\.0\.0\.1:\d+\/fleet-a#/);
    expect(s[0]!.trace.events).toBe(f!.trace.events);
    expect(comparable(s[0]!)).toBe(comparable(f!));
  });

  it('a second host is its own subject and its own section', async () => {
    const outB = join(dir, 'b.trace');
    const outC = join(dir, 'c.trace');
    // The fleet view follows the stream while both record.
    const watch = spawnCli(['live', '--from', nats.url], { buffer: false });
    let seen = '';
    watch.stdout!.setEncoding('utf8');
    const allEnded = new Promise<void>((resolve) =>
      watch.stdout!.on('data', (d: string) => {
        seen += d;
        if ((seen.match(/# end: signal/g) ?? []).length === 3) resolve();
      }),
    );
    // A hostile host name: dots and spaces are no subject token.
    const b = startRecord({ out: outB, args: ['--publish', nats.url, '--hostname', 'fleet.b host'] });
    const c = startRecord({ out: outC, args: ['--publish', nats.url, '--hostname', 'fleet-c'] });
    await Promise.all([b.ready, c.ready]);
    await execLoop(100);
    await sleep(1000);
    const [eb, ec] = await Promise.all([b.stop(), c.stop()]);
    expect(eb.code, eb.stderr).toBe(0);
    expect(ec.code, ec.stderr).toBe(0);

    const all = await runCli(['analyze', nats.url, '--format', 'json']);
    expect(all.code, all.stderr).toBe(0);
    const docs = jsonDocs(all.stdout);
    const hosts = docs.map((d) => d.trace.header.hostname).sort();
    expect(hosts).toEqual(['fleet-a', 'fleet-c', 'fleet.b host']);
    const onlyB = jsonDocs((await runCli(['analyze', `${nats.url}/fleet.b host`, '--format', 'json'])).stdout);
    expect(onlyB).toHaveLength(1);
    const [fileB] = jsonDocs((await runCli(['analyze', outB, '--format', 'json'])).stdout);
    expect(comparable(onlyB[0]!)).toBe(comparable(fileB!));
    const text = await runCli(['analyze', nats.url]);
    expect(text.stdout.match(/^trace nats:\/\//gm)).toHaveLength(3);

    // live --from: every host its own track (own header, own events, own end), one output.
    await allEnded;
    watch.kill('SIGINT');
    await watch;
    for (const host of ['fleet-a', 'fleet.b host', 'fleet-c']) {
      const mine = seen.split('\n').filter((l) => l.startsWith(`${host.padEnd(16)} `));
      expect(mine[0], host).toContain(`host ${host} `);
      expect(
        mine.some((l) => / exec +.* filename=\/bin\/true /.test(l)),
        host,
      ).toBe(true);
      expect(mine.at(-1), host).toMatch(/# end: signal, \d+ events/);
    }
  });
});
