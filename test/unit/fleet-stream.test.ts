// The fleet stream end to end on a real nats-server (JetStream, temp store): the publisher fed by
// a replayed trace, the reader's exactly-once rules against hand-made duplicates, holes and
// foreign messages, and analyze nats:// against analyze FILE. No root needed.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STREAM_LIMITS, type TracePublisher } from '../../src/fleet/publisher.js';
import { BATCH_HEADER, hostSubject, RECORDING_HEADER, STREAM_NAME } from '../../src/fleet/subject.js';
import { SCHEMA_VERSION } from '../../src/trace/trace-format.js';
import { readTrace, replayTrace, type TraceRecord } from '../../src/trace/trace-reader.js';
import { TraceWriter } from '../../src/trace/trace-writer.js';
import { runCli, REPO_ROOT } from '../support/cli.js';
import { eventsOf, readAll, skipNoNats, testPublisher } from '../support/fleet.js';
import { freePort, startNatsServer, type NatsServer } from '../support/nats-server.js';

const SAMPLE = join(REPO_ROOT, 'samples', 'lab.trace.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'fleet-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function records(path: string): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of readTrace(path)) out.push(r);
  return out;
}

/** Replay the sample into a publisher and, like record --out, into a trace file at `out`. */
async function publishSample(url: string, hostname: string, out: string = join(dir, `${hostname}.trace`)): Promise<TracePublisher> {
  const writer = TraceWriter.create(out);
  const logs: string[] = [];
  const p = testPublisher(url, dir, logs);
  await replayTrace(SAMPLE, {
    onHeader: (h) => {
      const header = { ...h, hostname, schemaVersion: SCHEMA_VERSION };
      writer.onHeader(header);
      p.onHeader(header);
    },
    onEvent: (e) => {
      writer.onEvent(e);
      p.onEvent(e);
    },
    onEnd: (t) => {
      writer.onEnd(t);
      p.onEnd(t);
    },
  });
  const { unsent } = await p.close(20_000);
  expect(unsent, logs.join('\n')).toBe(0);
  return p;
}

describe.skipIf(skipNoNats())('fleet stream on a real nats-server', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer(dir);
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it('a published trace reads back with the same events, header and trailer, and the spool is removed', async () => {
    const p = await publishSample(nats.url, 'unit-a');
    expect(p.stats.batches).toBeGreaterThan(1); // batched: several messages, not one per event
    expect(p.stats.acknowledged).toBe(p.stats.batches);
    expect(readdirSync(dir).filter((n) => n.startsWith('exetrace-spool-'))).toEqual([]);
    const file = await records(SAMPLE);
    const { recordings, problems, summary } = await readAll(`${nats.url}/unit-a`);
    expect(problems).toEqual([]);
    expect(summary.duplicates).toBe(0);
    expect(recordings).toHaveLength(1);
    const r = recordings[0]!;
    expect(r.ended).toBe(true);
    expect(r.records.filter((x) => x.type === 'error')).toEqual([]);
    expect(JSON.stringify(eventsOf(r.records))).toBe(JSON.stringify(eventsOf(file)));
    const h = r.records[0];
    expect(h?.type === 'header' && h.header.hostname).toBe('unit-a');
    expect(r.records.at(-1)?.type).toBe('trailer');
    // The stream the first publisher created: bounded by the given limits, file storage, a 10 min duplicate window.
    const nc = await connect({ servers: `127.0.0.1:${nats.port}` });
    const info = await (await nc.jetstreamManager()).streams.info(STREAM_NAME);
    await nc.close();
    expect(info.config).toMatchObject({
      subjects: ['exetrace.*.trace'],
      storage: 'file',
      retention: 'limits',
      discard: 'old',
      max_bytes: DEFAULT_STREAM_LIMITS.maxBytes,
      max_age: DEFAULT_STREAM_LIMITS.maxAgeSeconds * 1e9,
      duplicate_window: 10 * 60 * 1e9,
    });
  });

  it('drops re-sent batches, reports missing ones, and names foreign messages', async () => {
    const nc = await connect({ servers: `127.0.0.1:${nats.port}` });
    const js = nc.jetstream();
    const subject = hostSubject('unit-b');
    const lines = (await records(SAMPLE)).length; // a sanity anchor only
    expect(lines).toBeGreaterThan(10);
    const raw = (await import('node:fs')).readFileSync(SAMPLE, 'utf8').split('\n');
    const batch = (from: number, to: number) =>
      new TextEncoder().encode(
        raw
          .slice(from, to)
          .map((l) => `${l}\n`)
          .join(''),
      );
    const send = async (seq: number, data: Uint8Array, msgID: string) => {
      const h = headers();
      h.set(RECORDING_HEADER, 'rec-b');
      h.set(BATCH_HEADER, String(seq));
      await js.publish(subject, data, { msgID, headers: h, expect: { streamName: STREAM_NAME } });
    };
    await send(1, batch(0, 5), 'b1');
    await send(2, batch(5, 10), 'b2');
    await send(2, batch(5, 10), 'b2-again'); // a re-send JetStream's duplicate window did not catch
    await send(1, batch(0, 5), 'b1-again');
    await send(4, batch(15, 20), 'b4'); // batch 3 never arrives
    await js.publish(subject, new TextEncoder().encode('hello\n')); // no headers: not ours
    await nc.close();

    const { recordings, problems, summary } = await readAll(`${nats.url}/unit-b`);
    expect(summary.duplicates).toBe(2);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/not an exetrace batch/);
    const r = recordings[0]!;
    const errors = r.records.filter((x) => x.type === 'error');
    expect(errors.map((e) => e.type === 'error' && e.cause)).toEqual([
      'batch 3 is missing from the stream (removed by its retention limits?): events lost here',
      'truncated: no trailer after line 15',
    ]);
    // Lines 1-10 once each, then 15 more lines numbered on: nothing twice.
    expect(eventsOf(r.records)).toHaveLength(14);
  });

  it('analyze nats://HOST:PORT/HOST gives the same report as analyze FILE; an unknown host is a clear error', async () => {
    const out = join(dir, 'unit-c.trace');
    await publishSample(nats.url, 'unit.c', out);
    const fromFile = await runCli(['analyze', out, '--format', 'json']);
    const fromStream = await runCli(['analyze', `${nats.url}/unit.c`, '--format', 'json']);
    expect(fromStream.code, fromStream.stderr).toBe(0);
    const a = JSON.parse(fromFile.stdout);
    const b = JSON.parse(fromStream.stdout);
    for (const d of [a, b]) delete d.trace.file;
    expect(b.counts.total).toBeGreaterThan(0);
    expect(b).toEqual(a);
    const none = await runCli(['analyze', `${nats.url}/nobody`]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/holds no trace of host "nobody"/);
    const bad = await runCli(['analyze', 'nats://user:secret@127.0.0.1:1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no credentials in the address/);
  });
});

describe.skipIf(skipNoNats())('the publisher without a server', () => {
  it('spools while no server is there yet and sends everything, in order, once one starts', async () => {
    const port = await freePort();
    const logs: string[] = [];
    const p = testPublisher(`nats://127.0.0.1:${port}`, dir, logs);
    const file = await records(SAMPLE);
    const events = eventsOf(file);
    const header = file[0]!.type === 'header' ? file[0]!.header : null;
    p.onHeader({ ...header!, hostname: 'late-server' });
    events.slice(0, 4000).forEach((e) => p.onEvent(e));
    await new Promise((r) => setTimeout(r, 1500));
    expect(p.backlog).toBeGreaterThan(0); // nothing could be sent
    expect(logs.join('\n')).toMatch(/cannot connect .* spooling in/);
    const late = await startNatsServer(mkdtempSync(join(dir, 'late-')), port);
    try {
      events.slice(4000).forEach((e) => p.onEvent(e));
      const trailer = file.at(-1)!;
      p.onEnd(trailer.type === 'trailer' ? trailer.trailer : (undefined as never));
      expect((await p.close(20_000)).unsent).toBe(0);
      const { recordings, summary } = await readAll(`${late.url}/late-server`);
      expect(summary.duplicates).toBe(0);
      expect(recordings[0]!.records.filter((r) => r.type === 'error')).toEqual([]);
      expect(JSON.stringify(eventsOf(recordings[0]!.records))).toBe(JSON.stringify(events));
    } finally {
      await late.stop();
    }
  });

  it('a full spool ends the stream of the recording, counted and said, and keeps what it could not send', async () => {
    const logs: string[] = [];
    const p = testPublisher(`nats://127.0.0.1:${await freePort()}`, dir, logs, 300 * 1024);
    await replayTrace(SAMPLE, { onHeader: (h) => p.onHeader(h), onEvent: (e) => p.onEvent(e), onEnd: (t) => p.onEnd(t) });
    const { unsent, spoolDir } = await p.close(500);
    expect(logs.join('\n')).toMatch(/the spool is full \(307200 bytes\); the stream of this recording stops here/);
    expect(p.stats.eventsNotPublished).toBeGreaterThan(1000);
    expect(unsent).toBeGreaterThan(0);
    expect(spoolDir).not.toBeNull();
    expect(readdirSync(spoolDir!).length).toBeGreaterThan(0);
    rmSync(spoolDir!, { recursive: true, force: true });
  });
});
