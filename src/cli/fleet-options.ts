// The fleet options several commands share: how to reach NATS (by file paths only: a secret on
// the command line shows in ps), where and how much to spool, the host name, the metrics address.
import { InvalidArgumentError, type Command } from 'commander';
import type { NatsSecurity } from '../fleet/connection.js';

export interface NatsCliOptions {
  natsCreds?: string;
  natsCa?: string;
  natsCert?: string;
  natsKey?: string;
}

export function addNatsSecurityOptions(cmd: Command): Command {
  return cmd
    .option('--nats-creds <file>', 'NATS credentials file (.creds: user JWT and NKey seed)')
    .option('--nats-ca <file>', 'CA certificate(s) that signed the NATS server (turns TLS on)')
    .option('--nats-cert <file>', 'client certificate for NATS TLS')
    .option('--nats-key <file>', 'client key for NATS TLS');
}

export function natsSecurity(o: NatsCliOptions): NatsSecurity {
  if ((o.natsCert === undefined) !== (o.natsKey === undefined)) throw new InvalidArgumentError('--nats-cert and --nats-key go together');
  return { creds: o.natsCreds, ca: o.natsCa, cert: o.natsCert, key: o.natsKey };
}

export interface PublishCliOptions extends NatsCliOptions {
  publish?: string;
  spoolDir?: string;
  /** MiB, hours: commander fills in the defaults; a caller in code may leave them out. */
  spoolMax?: number;
  streamMaxBytes?: number;
  streamMaxAge?: number;
  hostname?: string;
}

export const PUBLISH_DEFAULTS = { spoolMax: 1024, streamMaxBytes: 10240, streamMaxAge: 168 };

const positiveInt =
  (what: string) =>
  (value: string): number => {
    if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError(`${what} is a positive integer`);
    return Number(value);
  };

/** A host name for the trace header and the subject: any text but control characters, at most 255 bytes. */
export function parseHostname(value: string): string {
  if (value === '' || Buffer.byteLength(value) > 255 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidArgumentError('a host name is 1 to 255 bytes without control characters');
  }
  return value;
}

/** HOST:PORT for --metrics (IPv6 in brackets). */
export function parseListenAddress(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (m === null || port > 65535) throw new InvalidArgumentError('expected HOST:PORT, e.g. 0.0.0.0:9464 or 127.0.0.1:9464');
  return { host: m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!), port };
}

export function addPublishOptions(cmd: Command): Command {
  return addNatsSecurityOptions(
    cmd
      .option('--publish <nats-url>', 'also stream the trace to NATS JetStream: nats://HOST:PORT (tls://HOST:PORT for TLS)')
      .option('--hostname <name>', "host name for the trace header and the fleet subject (default: this host's)", parseHostname)
      .option('--spool-dir <dir>', 'where batches wait while NATS is unreachable (default: the temp dir)')
      .option('--spool-max <MiB>', 'most disk the spool may use; past it the stream of this recording stops', positiveInt('--spool-max'), 1024)
      .option(
        '--stream-max-bytes <MiB>',
        'if the stream must be created: its size limit (oldest traces dropped first)',
        positiveInt('--stream-max-bytes'),
        10240,
      )
      .option('--stream-max-age <hours>', 'if the stream must be created: how long it keeps traces', positiveInt('--stream-max-age'), 168),
  ).option('--metrics <host:port>', 'serve Prometheus metrics on http://HOST:PORT/metrics', parseListenAddress);
}
