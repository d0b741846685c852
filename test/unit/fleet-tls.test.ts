// TLS to NATS by file paths only: a real nats-server with a certificate signed by a throwaway CA
// (openssl). The publisher and analyze reach it with --nats-ca; without the CA the connection is
// refused with a clear error, never silently in clear text.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayTrace } from '../../src/trace/trace-reader.js';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { skipNoNats, testPublisher } from '../support/fleet.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';

const SAMPLE = join(REPO_ROOT, 'samples', 'lab.trace.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'fleet-tls-'));
const f = (name: string) => join(dir, name);

// The node client checks the name "localhost" for a 127.0.0.1 server, so both are in the SAN.
function makeCertificates(): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=exetrace test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'));
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    f('san.ext'),
    '-out',
    f('server.pem'),
  );
}

describe.skipIf(skipNoNats())('NATS over TLS with a CA file', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    makeCertificates();
    nats = await startNatsServer(dir, undefined, ['--tls', '--tlscert', f('server.pem'), '--tlskey', f('server.key')]);
  });
  afterAll(async () => {
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes and analyzes through TLS with --nats-ca, and refuses without it', async () => {
    const url = `tls://127.0.0.1:${nats.port}`;
    const logs: string[] = [];
    const p = testPublisher(url, dir, logs, 64 * 1024 * 1024, { ca: f('ca.pem') });
    await replayTrace(SAMPLE, { onHeader: (h) => p.onHeader({ ...h, hostname: 'tls-host' }), onEvent: (e) => p.onEvent(e), onEnd: (t) => p.onEnd(t) });
    expect((await p.close(20_000)).unsent, logs.join('\n')).toBe(0);

    const ok = await runCli(['analyze', `${url}/tls-host`, '--nats-ca', f('ca.pem'), '--format', 'json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).trace.header.hostname).toBe('tls-host');
    const noCa = await runCli(['analyze', `${url}/tls-host`]);
    expect(noCa.code).toBe(2);
    expect(noCa.stderr).toMatch(/exetrace analyze: cannot connect to 127\.0\.0\.1:\d+: .*(certificate|self.signed|verify)/i);
    const missing = await runCli(['analyze', `${url}/tls-host`, '--nats-creds', f('no-such.creds')]);
    expect(missing.stderr).toMatch(/no-such\.creds/);
    expect(missing.stderr).not.toMatch(/\n\s+at /); // a clear error, not a stack trace
  });
});
