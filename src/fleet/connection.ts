// Where the NATS server is and how to reach it: a nats://HOST:PORT[/HOSTNAME] address, plus the
// usual NATS credentials (a .creds file) and TLS files (CA, client cert and key), by path only:
// a secret typed on the command line shows in ps and in the shell history.
import { accessSync, constants, readFileSync } from 'node:fs';
import { credsAuthenticator, type ConnectionOptions } from 'nats';

export interface NatsAddress {
  /** host:port as the client wants it. */
  server: string;
  /** The host named in the path (analyze one host's stream), or null for every host. */
  hostname: string | null;
  tls: boolean;
}

export interface NatsSecurity {
  /** A NATS .creds file (JWT and NKey seed). */
  creds?: string;
  /** CA bundle that signed the server's certificate. */
  ca?: string;
  /** Client certificate and key, when the server asks for one. */
  cert?: string;
  key?: string;
}

/** Parse nats://HOST:PORT[/HOSTNAME] (tls://… forces TLS). Throws an Error whose message says what is wrong. */
export function parseNatsAddress(value: string, opts: { allowHostname: boolean }): NatsAddress {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`not a NATS address: ${JSON.stringify(value)} (expected nats://HOST:PORT)`);
  }
  if (url.protocol !== 'nats:' && url.protocol !== 'tls:') throw new Error(`not a NATS address: ${JSON.stringify(value)} (expected nats://HOST:PORT)`);
  if (url.username !== '' || url.password !== '') throw new Error('no credentials in the address: they would show in ps; use --nats-creds FILE');
  if (url.hostname === '') throw new Error(`no host in ${JSON.stringify(value)}`);
  if (url.search !== '' || url.hash !== '') throw new Error(`unexpected ?query or #fragment in ${JSON.stringify(value)}`);
  const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (path !== '' && !opts.allowHostname) throw new Error(`no /HOSTNAME here: ${JSON.stringify(value)} (expected nats://HOST:PORT)`);
  return { server: `${url.hostname}:${url.port === '' ? '4222' : url.port}`, hostname: path === '' ? null : path, tls: url.protocol === 'tls:' };
}

/** The client's connection options: reconnect forever (a fleet server restarts; the recorder must not care). */
export function connectionOptions(addr: NatsAddress, sec: NatsSecurity, name: string): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: addr.server,
    name,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: false, // the publisher retries the first connect itself (a pending one cannot be cancelled)
  };
  if (sec.creds !== undefined) {
    const creds = readFileSync(sec.creds); // read once: a typo fails at start, not at the first reconnect
    opts.authenticator = credsAuthenticator(new Uint8Array(creds));
  }
  // The client reads TLS files only when it connects: a wrong path must fail now, by name.
  for (const file of [sec.ca, sec.cert, sec.key]) if (file !== undefined) accessSync(file, constants.R_OK);
  if (addr.tls || sec.ca !== undefined || sec.cert !== undefined) {
    opts.tls = { ...(sec.ca !== undefined ? { caFile: sec.ca } : {}), ...(sec.cert !== undefined ? { certFile: sec.cert, keyFile: sec.key } : {}) };
  }
  return opts;
}
