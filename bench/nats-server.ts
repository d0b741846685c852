// A real nats-server with JetStream for the fleet tests and the publish bench: a temp store directory and a free port,
// which survive kill -9 so a restart finds the stream where it was.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';

export const NATS_SERVER = '/usr/sbin/nats-server';

export const natsServerInstalled = (): boolean => existsSync(NATS_SERVER);

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export interface NatsServer {
  port: number;
  url: string;
  /** kill -9: no shutdown, no flush. */
  kill9(): Promise<void>;
  /** Start again on the same port and store. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Start one; `port` to reuse a known one (a publisher already pointed at it); `extraArgs` e.g. for TLS. */
export async function startNatsServer(dir: string, port?: number, extraArgs: readonly string[] = []): Promise<NatsServer> {
  port ??= await freePort();
  let child: ChildProcess | null = null;
  const launch = async (): Promise<void> => {
    const c = spawn(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(port!), '-sd', join(dir, 'jetstream'), ...extraArgs], { stdio: 'ignore' });
    child = c;
    const until = Date.now() + 15_000;
    while (!(await accepts(port!))) {
      if (c.exitCode !== null) throw new Error(`nats-server exited with ${c.exitCode}`);
      if (Date.now() > until) throw new Error('nats-server did not listen within 15 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    child = null;
    if (c === null || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await gone;
  };
  await launch();
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    kill9: () => kill('SIGKILL'),
    restart: launch,
    stop: () => kill('SIGTERM'),
  };
}
