// A private directory holding a fresh copy of /usr/bin/true: an identity (dev, ino) nothing else
// on the host execs, so a live test counts its execs by identity, never by name.
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FreshBinary {
  dir: string;
  binary: string;
  id: { dev: number; ino: number };
  /** Removes the directory, unless EXETRACE_KEEP=1 (keep the traces for a look after a failure). */
  cleanup(): void;
}

export function freshBinary(prefix: string, name: string): FreshBinary {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const binary = join(dir, name);
  copyFileSync('/usr/bin/true', binary);
  const st = statSync(binary);
  return {
    dir,
    binary,
    id: { dev: st.dev, ino: st.ino },
    cleanup: () => {
      if (!process.env.EXETRACE_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}
