// The scenario lab's registry: each scenario starts a real process on this host that makes
// /proc/PID/exe and the VMA walk tell a particular story (see test/lab/README.md), waits until
// it has been observed, and stops. Used by the live tests and to record the bundled sample trace.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classOfScenario, type FindingClass, type FindingScenario } from '../../src/model/finding-classes.js';
import { decodeKernelBytes } from '../../src/trace/kernel-string.js';
import { buildLab, labDir, type LabProgramName } from './build.js';

/** The finding class a scenario should produce (src/model/finding-classes.ts), or null for none. */
export type ExpectedClass = FindingClass | null;

/**
 * One scenario per finding class (named in the class table), plus: the hostile-name check,
 * evasions that must still give their class (renamed copies, a runtime's memfd self-clone),
 * files named like a class that must give none, and the exec shapes users meet (#! scripts,
 * execveat AT_EMPTY_PATH, fexecve, a binary shipped in an overlay's lower layer).
 */
export type ScenarioId =
  | FindingScenario
  | 'hostile-name'
  | 'ldso-renamed-copy'
  | 'memfd-self-clone'
  | 'named-like-loader'
  | 'named-like-memfd'
  | 'named-like-deleted'
  | 'hashbang-script'
  | 'execveat-empty-path'
  | 'fexecve'
  | 'lower-layer';

/** A file by identity (dev as stat's st_dev, ino); path for display and link comparison. */
export interface FileIdentity {
  /** As the trace decodes kernel strings (surrogateescape). */
  path: string;
  /** The raw bytes of `path`. */
  pathBytes: Buffer;
  dev: number;
  ino: number;
  /**
   * The superblock's device (inode->i_sb->s_dev, what BPF and /proc/PID/maps see) when stat's
   * st_dev differs: overlayfs whose layers sit on different filesystems reports a per-layer
   * pseudo device in st_dev for files (the outer overlay of nested-overlay).
   */
  sbDev?: number;
}

export interface RunningScenario {
  id: ScenarioId;
  expectedClass: ExpectedClass;
  pid: number;
  /** What mm->exe_file should be while the scenario waits. */
  exe: FileIdentity;
  /** The exact readlink(/proc/PID/exe) text expected (bytes). */
  expectedExeLink: Buffer;
  /** The file the VMA walk should name instead of exe_file, when the scenario makes them differ. */
  vmaWalk: FileIdentity | null;
  /** exe-replaced: the file exe_file named before prctl. */
  oldExe: FileIdentity | null;
  /** ldso-launch: the program ld.so loaded. */
  loaded: FileIdentity | null;
  /** comm the scenario sets (hostile-name) or null when it is the kernel's default. */
  comm: Buffer | null;
  /** What the exec asked for, where the scenario knows it: execve's filename and argv[0]. */
  request?: { filename: string; argv0: string };
  /** "fact KEY VALUE" lines the program printed before "ready" (ret/errno of prctl, stat of layers, ...). */
  facts: Map<string, string[]>;
  /** The scenario's temp directory (removed by stop()), or null when it needs none. */
  workDir: string | null;
  /** Stops the process (stdin EOF, then SIGKILL after a grace period) and removes temp files. */
  stop(): Promise<void>;
}

export interface Scenario {
  id: ScenarioId;
  expectedClass: ExpectedClass;
  description: string;
  start(): Promise<RunningScenario>;
}

const LDSO = '/lib64/ld-linux-x86-64.so.2';
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3_000;
/** Passed to every lab program: the hard limit after which it exits on its own. */
const LAB_TIMEOUT_S = 180;

const running = new Set<RunningScenario>();

function identityOf(pathBytes: Buffer, displayBytes: Buffer = pathBytes): FileIdentity {
  const st = statSync(pathBytes);
  return { path: decodeKernelBytes(displayBytes), pathBytes: displayBytes, dev: st.dev, ino: st.ino };
}

function identityFromFact(facts: Map<string, string[]>, key: string, path: string): FileIdentity {
  const value = facts.get(key)?.[0];
  const m = value?.match(/^(\d+) (\d+)$/);
  if (!m) throw new Error(`scenario lab: fact ${key} missing or malformed: ${JSON.stringify(value)}`);
  return { path, pathBytes: Buffer.from(path), dev: Number(m[1]), ino: Number(m[2]) };
}

function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `exetrace-lab-${tag}-`));
}

interface Launched {
  child: ChildProcess;
  pid: number;
  facts: Map<string, string[]>;
  output: () => string;
}

/** Spawns, collects fact lines, resolves at "ready <pid>"; kills and rejects on timeout or early exit. */
function launch(command: string, args: string[], cleanup: () => void): Promise<Launched> {
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, LAB_TIMEOUT_S: String(LAB_TIMEOUT_S) },
  });
  const facts = new Map<string, string[]>();
  let stdout = '';
  let stderr = '';
  let pending = '';
  const output = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
  return new Promise<Launched>((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const finish = () => {
        cleanup();
        reject(new Error(`scenario lab: ${command} ${args.join(' ')}: ${why}\n${output()}`));
      };
      // Remove temp files only once the process (and its mount namespace) is gone.
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) finish();
      else {
        child.once('exit', finish);
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => fail(`no "ready" line within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      pending += d.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const fact = line.match(/^fact (\S+) (.*)$/);
        if (fact) {
          const list = facts.get(fact[1]!) ?? [];
          list.push(fact[2]!);
          facts.set(fact[1]!, list);
        }
        const ready = line.match(/^ready (\d+)$/);
        if (ready && !settled) {
          settled = true;
          clearTimeout(timer);
          resolve({ child, pid: Number(ready[1]), facts, output });
        }
        if (line.startsWith('error ')) fail(line);
      }
    });
    child.on('error', (err) => fail(`spawn failed: ${err.message}`));
    child.on('exit', (code, signal) => fail(`exited before ready (code ${code}, signal ${signal})`));
  });
}

function stopper(child: ChildProcess, cleanup: () => void): () => Promise<void> {
  let stopping: Promise<void> | null = null;
  return () => {
    stopping ??= new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        cleanup();
        resolve();
        return;
      }
      const killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(killTimer);
        cleanup();
        resolve();
      });
      child.stdin?.end();
    });
    return stopping;
  };
}

interface StartSpec {
  command: string;
  args: string[];
  /** Temp directory to remove on stop (and on a failed start). */
  workDir?: string;
  describe: (l: Launched) => Omit<RunningScenario, 'id' | 'expectedClass' | 'pid' | 'facts' | 'workDir' | 'stop'>;
}

function scenario<Id extends ScenarioId>(
  id: Id,
  description: string,
  prepare: (bins: Record<LabProgramName, string>) => StartSpec,
  expectedClass: ExpectedClass = classOfScenario(id),
): Scenario & { id: Id } {
  return {
    id,
    expectedClass,
    description,
    async start() {
      const bins = buildLab();
      const spec = prepare(bins);
      const workDir = spec.workDir ?? null;
      const cleanup = () => {
        if (workDir) rmSync(workDir, { recursive: true, force: true });
      };
      const launched = await launch(spec.command, spec.args, cleanup);
      const stop = stopper(launched.child, cleanup);
      let described: ReturnType<StartSpec['describe']>;
      try {
        described = spec.describe(launched);
      } catch (err) {
        await stop();
        throw err;
      }
      const run: RunningScenario = {
        id,
        expectedClass,
        pid: launched.pid,
        facts: launched.facts,
        workDir,
        ...described,
        stop: async () => {
          running.delete(run);
          await stop();
        },
      };
      running.add(run);
      return run;
    },
  };
}

function plain(exe: FileIdentity): Pick<RunningScenario, 'exe' | 'expectedExeLink' | 'vmaWalk' | 'oldExe' | 'loaded' | 'comm'> {
  return { exe, expectedExeLink: exe.pathBytes, vmaWalk: null, oldExe: null, loaded: null, comm: null };
}

const registry = [
  scenario('ldso-launch', 'the sleeper started as an argument of ld.so: exe_file is ld.so', (bins) => {
    const real = realpathSync(LDSO);
    return {
      command: LDSO,
      args: [bins.sleeper],
      describe: () => ({
        ...plain(identityOf(Buffer.from(real))),
        loaded: identityOf(Buffer.from(bins.sleeper)),
      }),
    };
  }),

  scenario('decoy', 'a copy of libc mapped r-x at 0x10000, below the program text', (bins) => {
    const dir = tempDir('decoy');
    const decoyFile = join(dir, 'decoy.so');
    copyFileSync(realpathSync('/lib/x86_64-linux-gnu/libc.so.6'), decoyFile);
    chmodSync(decoyFile, 0o755);
    return {
      command: bins.decoy,
      args: [decoyFile, '10000'],
      workDir: dir,
      describe: () => ({ ...plain(identityOf(Buffer.from(bins.decoy))), vmaWalk: identityOf(Buffer.from(decoyFile)) }),
    };
  }),

  scenario('text-unmapped', 'the program replaced its r-x mapping with an anonymous copy (mremap)', (bins) => ({
    command: bins.textunmap,
    args: [],
    describe: () => plain(identityOf(Buffer.from(bins.textunmap))),
  })),

  scenario('nested-overlay', 'the sleeper run from an overlay whose lower layer is another overlay', (bins) => {
    const dir = tempDir('overlay');
    return {
      command: 'unshare',
      args: ['-m', '--propagation', 'private', '--', 'sh', join(labDir, 'nested-overlay.sh'), dir, bins.sleeper],
      // The mounts live in the scenario's private mount namespace and go with its last process.
      workDir: dir,
      describe: (l) => {
        const outer = join(dir, 'outer', 'lowbin');
        return {
          ...plain({ ...identityFromFact(l.facts, 'stat_outer', outer), sbDev: Number(l.facts.get('sbdev_outer')?.[0]) }),
          // /proc/PID/maps names the inner overlay's file by its path inside the inner mount.
          vmaWalk: identityFromFact(l.facts, 'stat_inner', '/lowbin'),
        };
      },
    };
  }),

  scenario('exe-replaced', 'prctl(PR_SET_MM, PR_SET_MM_MAP, exe_fd) after unmapping every mapping of the old exe', (bins) => {
    const dir = tempDir('replace');
    const newExe = join(dir, 'replacement-exe');
    copyFileSync(bins.sleeper, newExe);
    chmodSync(newExe, 0o755);
    return {
      command: bins.exereplace,
      args: [newExe],
      workDir: dir,
      describe: (l) => {
        const result = l.facts.get('prctl_unmapped')?.[0] ?? '';
        if (!result.startsWith('ret=0 ')) throw new Error(`scenario lab: exe-replaced: prctl failed: ${result}\n${l.output()}`);
        return { ...plain(identityOf(Buffer.from(newExe))), oldExe: identityOf(Buffer.from(bins.exereplace)) };
      },
    };
  }),

  scenario('memfd-exec', 'the sleeper copied into a memfd and fexecve()d', (bins) => {
    const name = 'exetrace-lab';
    return {
      command: bins.memfdexec,
      args: [bins.sleeper, name],
      describe: (l) => {
        const link = `/memfd:${name} (deleted)`;
        const exe = identityFromFact(l.facts, 'memfd', link);
        return plain(exe);
      },
    };
  }),

  scenario('deleted-exe', 'a copy of the sleeper deleted while it runs', (bins) => {
    const dir = tempDir('deleted');
    const copy = join(dir, 'doomed-exe');
    copyFileSync(bins.sleeper, copy);
    chmodSync(copy, 0o755);
    const before = identityOf(Buffer.from(copy));
    return {
      command: copy,
      args: [],
      workDir: dir,
      describe: () => {
        rmSync(copy);
        return { ...plain(before), expectedExeLink: Buffer.from(`${copy} (deleted)`) };
      },
    };
  }),

  scenario(
    'ldso-renamed-copy',
    'a copy of ld.so under an ordinary name runs the sleeper: no name says "loader"',
    (bins) => {
      const { dir, copy } = copyInTemp(realpathSync(LDSO), 'ldcopy', 'helper-tool');
      return {
        command: copy,
        args: [bins.sleeper],
        workDir: dir,
        describe: () => ({ ...plain(identityOf(Buffer.from(copy))), loaded: identityOf(Buffer.from(bins.sleeper)) }),
      };
    },
    'loader-exec',
  ),

  scenario(
    'memfd-self-clone',
    "a runtime's self-clone (runc >= 1.1.15): /proc/self/exe copied to a sealed memfd runc_cloned:/proc/self/exe and re-exec'd",
    (bins) => {
      // Installed as .../runc: the shipped default exceptions expect this clone from runc.
      const { dir, copy: runc } = copyInTemp(bins.selfclone, 'runc', 'runc');
      return {
        command: runc,
        args: ['init'],
        workDir: dir,
        describe: (l) => ({
          ...plain(identityFromFact(l.facts, 'memfd', '/memfd:runc_cloned:/proc/self/exe (deleted)')),
          oldExe: identityOf(Buffer.from(runc)),
        }),
      };
    },
    'exe-memfd',
  ),

  scenario(
    'named-like-loader',
    'a copy of the sleeper named ld-linux-x86-64.so.2: an ordinary program, no finding',
    (bins) => namedCopy(bins.sleeper, 'ldname', 'ld-linux-x86-64.so.2'),
    null,
  ),

  scenario(
    'named-like-memfd',
    'a copy of the sleeper on a tmpfs mount, named memfd:payload at its root: no finding',
    (bins) => {
      const dir = tempDir('memfdname');
      return {
        command: 'unshare',
        args: [
          '-m',
          '--propagation',
          'private',
          '--',
          'sh',
          '-c',
          'mount -t tmpfs tmpfs "$1" && cp "$2" "$1/memfd:payload" && exec "$1/memfd:payload"',
          'sh',
          dir,
          bins.sleeper,
        ],
        workDir: dir,
        describe: (l) => {
          const path = join(dir, 'memfd:payload');
          const exe = readlinkSync(`/proc/${l.pid}/exe`);
          if (exe !== path) throw new Error(`scenario lab: named-like-memfd: exe is ${exe}, not ${path}`);
          // The tmpfs lives in the scenario's namespace: its identity comes from /proc.
          const st = statSync(`/proc/${l.pid}/exe`);
          return plain({ path, pathBytes: Buffer.from(path), dev: st.dev, ino: st.ino });
        },
      };
    },
    null,
  ),

  scenario(
    'named-like-deleted',
    'a copy of the sleeper whose file name ends in " (deleted)", still linked: no finding',
    (bins) => namedCopy(bins.sleeper, 'delname', 'prog (deleted)'),
    null,
  ),

  scenario(
    'hashbang-script',
    'a #! /bin/sh script: exe is the interpreter, the script is what was executed; no finding',
    () => {
      const dir = tempDir('script');
      const script = join(dir, 'lab-script.sh');
      writeFileSync(script, '#!/bin/sh\necho "ready $$"\nread line\n');
      chmodSync(script, 0o755);
      return {
        command: script,
        args: [],
        workDir: dir,
        // The kernel rewrites argv for a script: argv[0] is the interpreter as the #! line names it.
        describe: () => ({ ...plain(identityOf(Buffer.from(realpathSync('/bin/sh')))), request: { filename: script, argv0: '/bin/sh' } }),
      };
    },
    null,
  ),

  scenario(
    'execveat-empty-path',
    'execveat(fd, "", AT_EMPTY_PATH) of an O_PATH fd of the sleeper, argv[0] "sshd": no finding',
    (bins) => fdExec(bins, 'empty-path', 'sshd'),
    null,
  ),

  scenario('fexecve', 'glibc fexecve() of the sleeper, argv[0] "kworker/0:1": no finding', (bins) => fdExec(bins, 'fexecve', 'kworker/0:1'), null),

  scenario('upper-layer', "a binary copied into a single overlay's merged view (the upper layer) after mounting, then run", (bins) =>
    singleOverlay(bins, 'upper'),
  ),

  scenario(
    'lower-layer',
    "the sleeper shipped in a single overlay's lower layer and run from the merged view: no finding",
    (bins) => singleOverlay(bins, 'lower'),
    null,
  ),

  scenario('hostile-name', 'a copy of the sleeper whose file name and comm hold terminal escapes and bad bytes', (bins) => {
    const dir = tempDir('hostile');
    // ESC sequences (clear screen, red), newline, both quotes, backslash and a byte that is not UTF-8.
    const name = Buffer.concat([Buffer.from('lab-\x1b[2J\x1b[31mred\nline\'q"\\b'), Buffer.from([0xff]), Buffer.from('end')]);
    const path = Buffer.concat([Buffer.from(`${dir}/`), name]);
    copyFileSync(bins.sleeper, path);
    chmodSync(path, 0o755);
    // printf-format form of the path, so sh can build the 0xff byte (spawn args are UTF-8 strings).
    let format = '';
    for (const b of path) format += b >= 0x20 && b < 0x7f && b !== 0x5c && b !== 0x25 ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`;
    // OSC window title + BEL + clear screen: 12 bytes, under comm's 15.
    const comm = '\x1b]0;pwn\x07\x1b[2J';
    return {
      command: 'sh',
      args: ['-c', 'exec "$(printf "$1")" --comm "$2"', 'sh', format, comm],
      workDir: dir,
      describe: () => ({ ...plain(identityOf(path)), comm: Buffer.from(comm) }),
    };
  }),
];

export const scenarios: readonly Scenario[] = registry;

/** The sleeper exec'd through a file descriptor (test/lab/src/execat.c) with a chosen argv[0]. */
function fdExec(bins: Record<LabProgramName, string>, mode: 'empty-path' | 'fexecve', argv0: string): StartSpec {
  return {
    command: bins.execat,
    args: [mode, bins.sleeper, argv0],
    // The kernel names an exec through an fd /dev/fd/N (bprm->filename).
    describe: (l) => ({ ...plain(identityOf(Buffer.from(bins.sleeper))), request: { filename: `/dev/fd/${l.facts.get('fd')?.[0]}`, argv0 } }),
  };
}

/** An executable copy of a file under NAME in a new temp dir. */
function copyInTemp(program: string, tag: string, name: string): { dir: string; copy: string } {
  const dir = tempDir(tag);
  const copy = join(dir, name);
  copyFileSync(program, copy);
  chmodSync(copy, 0o755);
  return { dir, copy };
}

/** A copy of a lab program under NAME in a temp dir, run as it is. */
function namedCopy(program: string, tag: string, name: string): StartSpec {
  const { dir, copy } = copyInTemp(program, tag, name);
  return { command: copy, args: [], workDir: dir, describe: () => plain(identityOf(Buffer.from(copy))) };
}

function singleOverlay(bins: Record<LabProgramName, string>, layer: 'lower' | 'upper'): StartSpec {
  const dir = tempDir(`overlay-${layer}`);
  return {
    command: 'unshare',
    args: ['-m', '--propagation', 'private', '--', 'sh', join(labDir, 'single-overlay.sh'), dir, bins.sleeper, layer],
    workDir: dir,
    describe: (l) => {
      const path = join(dir, 'merged', layer === 'upper' ? 'dropped' : 'prog');
      return plain({ ...identityFromFact(l.facts, 'stat_target', path), sbDev: Number(l.facts.get('sbdev')?.[0]) });
    },
  };
}

// The lab defines a scenario for every finding class in the table: a class without one fails to compile.
type MissingScenario = Exclude<ScenarioId, (typeof registry)[number]['id']>;
const everyClassHasAScenario: [MissingScenario] extends [never] ? true : MissingScenario = true;
void everyClassHasAScenario;

export function scenarioById(id: ScenarioId): Scenario {
  const found = scenarios.find((s) => s.id === id);
  if (!found) throw new Error(`scenario lab: no scenario ${id}`);
  return found;
}

/** Stops every scenario still running (for afterAll hooks). */
export async function stopAllScenarios(): Promise<void> {
  await Promise.all([...running].map((r) => r.stop()));
}

export interface ScenarioRun {
  id: ScenarioId;
  expectedClass: ExpectedClass;
  pid: number;
  exe: FileIdentity;
}

function readExeLink(pid: number): void {
  try {
    readlinkSync(`/proc/${pid}/exe`);
  } catch {
    // The scenario's own checks report a missing link; here it is only a trigger.
  }
}

/**
 * Starts each scenario in turn, keeps it alive for `holdMs` (so a recorder sees it settle and
 * can snapshot it), then stops it. Used to record the bundled sample trace.
 */
export async function runAllScenarios(options: { holdMs?: number; only?: ScenarioId[] } = {}): Promise<ScenarioRun[]> {
  const holdMs = options.holdMs ?? 1_000;
  const runs: ScenarioRun[] = [];
  for (const s of scenarios) {
    if (options.only && !options.only.includes(s.id)) continue;
    const run = await s.start();
    try {
      // Read the exe link as a user would: a recorder snapshots /proc at exe reads, and that is
      // the only way a trace learns that a running executable was unlinked (deleted-exe).
      readExeLink(run.pid);
      await new Promise((r) => setTimeout(r, holdMs));
      readExeLink(run.pid);
      runs.push({ id: run.id, expectedClass: run.expectedClass, pid: run.pid, exe: run.exe });
    } finally {
      await run.stop();
    }
  }
  return runs;
}
