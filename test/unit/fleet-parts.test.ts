// The fleet's small parts: subject tokens for hostile host names, NATS addresses, the spool.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNatsAddress } from '../../src/fleet/connection.js';
import { BatchSpool } from '../../src/fleet/spool.js';
import { hostOfSubject, hostSubject, hostToken } from '../../src/fleet/subject.js';

const dir = mkdtempSync(join(tmpdir(), 'fleet-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('host subjects', () => {
  it('keep plain host names readable and escape everything a subject token cannot hold', () => {
    expect(hostSubject('web-1')).toBe('exetrace.web-1.trace');
    expect(hostSubject('web.1 *>')).toBe('exetrace.web_2e1_20_2a_3e.trace');
    expect(hostToken('a_b')).toBe('a_5fb');
    expect(hostToken('')).toBe('_');
  });

  it('are injective: every host name comes back from its subject, and two names never share one', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), (a, b) => {
        const sa = hostSubject(a);
        expect(sa).toMatch(/^exetrace\.[A-Za-z0-9_-]+\.trace$/);
        // Lone surrogates do not survive UTF-8; the header keeps the name, the subject its bytes.
        if (a === Buffer.from(a, 'utf8').toString('utf8')) expect(hostOfSubject(sa)).toBe(a);
        if (Buffer.from(a, 'utf8').equals(Buffer.from(b, 'utf8'))) return;
        expect(sa).not.toBe(hostSubject(b));
      }),
    );
    expect(hostOfSubject('exetrace.a.b.trace')).toBeNull();
  });
});

describe('NATS addresses', () => {
  it('parse host, port, an optional host name, and tls://', () => {
    expect(parseNatsAddress('nats://10.0.0.1:4333', { allowHostname: false })).toEqual({ server: '10.0.0.1:4333', hostname: null, tls: false });
    expect(parseNatsAddress('nats://central', { allowHostname: true })).toEqual({ server: 'central:4222', hostname: null, tls: false });
    expect(parseNatsAddress('tls://central:4222/web%201', { allowHostname: true })).toEqual({ server: 'central:4222', hostname: 'web 1', tls: true });
  });

  it('refuse secrets in the address and anything that is not one', () => {
    expect(() => parseNatsAddress('nats://u:p@central:4222', { allowHostname: false })).toThrow(/no credentials in the address/);
    expect(() => parseNatsAddress('nats://central:4222?token=x', { allowHostname: false })).toThrow(/query/);
    expect(() => parseNatsAddress('http://central:4222', { allowHostname: false })).toThrow(/not a NATS address/);
    expect(() => parseNatsAddress('nats://central:4222/web1', { allowHostname: false })).toThrow(/no \/HOSTNAME here/);
  });
});

describe('the publisher spool', () => {
  it('gives batches back oldest first until acknowledged, from disk past its memory share, and deletes acknowledged segments', () => {
    const spool = new BatchSpool(dir, 64 * 1024 * 1024);
    expect(statSync(spool.dir).mode & 0o777).toBe(0o700);
    const batch = (i: number) => Buffer.alloc(1024 * 1024, i % 251);
    for (let i = 1; i <= 24; i++) expect(spool.append(i, batch(i), 10)).toBe(true);
    expect(spool.pending).toBe(24);
    expect(spool.pendingEvents).toBe(240);
    const files = readdirSync(spool.dir);
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) expect(statSync(join(spool.dir, f)).mode & 0o777).toBe(0o600);
    for (let i = 1; i <= 24; i++) {
      const next = spool.peek();
      expect(next?.seq).toBe(i);
      expect(next?.data.equals(batch(i))).toBe(true); // batches past 16 MiB come back from disk
      spool.ack();
    }
    expect(spool.peek()).toBeNull();
    expect(readdirSync(spool.dir)).toEqual([]);
    expect(spool.bytesOnDisk).toBe(0);
    spool.close();
    expect(existsSync(spool.dir)).toBe(false);
  });

  it('refuses a batch past its disk bound and keeps what it has', () => {
    const spool = new BatchSpool(dir, 3 * 1024);
    expect(spool.append(1, Buffer.alloc(2048), 1)).toBe(true);
    expect(spool.append(2, Buffer.alloc(2048), 1)).toBe(false);
    expect(spool.pending).toBe(1);
    spool.close();
    expect(existsSync(spool.dir)).toBe(true); // unsent batches stay on disk
    spool.close(true);
  });
});
