// Fetches stock Debian kernels (vmlinuz plus the few modules the lab needs) through apt with a
// private configuration, so the host's own apt sources and state are never touched.
// Cached under .cache/vm/kernels/<suite>/<package version>/.
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VM_CACHE, log } from './paths.js';
import type { UserlandSuite } from './rootfs.js';
import type { Flavor } from '../../src/trace/trace-format.js';
import type { ScenarioId } from '../lab/scenarios.js';

export interface KernelTarget {
  /** Label used in test names and cache keys. */
  name: string;
  /** apt "pkg/suite" selector for the kernel meta-package. */
  suite: 'bullseye' | 'bookworm' | 'bookworm-backports' | 'trixie';
  /** The guest's userland, and with it its bpftrace (bookworm 0.17, trixie 0.23). */
  userland: UserlandSuite;
  /** Flavors that record the lab there; each must give the host baseline's classes. */
  flavors: Flavor[];
  /** What `--flavor auto` (and doctor) must pick there, by trying. */
  auto: Flavor;
  /** Flavors that must refuse to load there, and what their reason must say. */
  refused: { flavor: Flavor; because: RegExp }[];
  /** Lab scenarios the kernel cannot stage, with what was measured (the rest must match). */
  skipScenarios?: { id: ScenarioId; why: string }[];
}

/** The tracepoint flavor before 6.8. */
const NO_PREPARE_EXEC = { flavor: 'tracepoint', because: /sched_prepare_exec.*Linux 6\.8/ } as const;

export const KERNEL_TARGETS: KernelTarget[] = [
  // bpftrace (0.17 to 0.23) finds vmlinux BTF through bpf_btf_info.kernel_btf, which 5.11 added:
  // on 5.10 it reports "btf: no", so fentry cannot load and kprobe needs BPFTRACE_BTF.
  {
    name: 'debian-5.10',
    suite: 'bullseye',
    userland: 'bookworm',
    flavors: ['kprobe'],
    auto: 'kprobe',
    refused: [NO_PREPARE_EXEC, { flavor: 'kfunc', because: /kfunc\/kretfunc not available/ }],
    skipScenarios: [
      {
        id: 'memfd-exec',
        why: 'fexecve of a memfd fails with ENOENT on this kernel with no tracing at all (same bookworm userland and binaries work on 6.1)',
      },
      { id: 'memfd-self-clone', why: 'its fexecve of the memfd copy fails with ENOENT on this kernel, as memfd-exec does' },
      { id: 'execveat-empty-path', why: 'execveat(fd, "", AT_EMPTY_PATH) of the sleeper fails with ENOENT on this kernel, as fexecve of a memfd does' },
      { id: 'fexecve', why: 'glibc fexecve() is execveat(fd, "", AT_EMPTY_PATH): ENOENT on this kernel, as in execveat-empty-path' },
    ],
  },
  { name: 'debian-6.1', suite: 'bookworm', userland: 'bookworm', flavors: ['kfunc', 'kprobe'], auto: 'kfunc', refused: [NO_PREPARE_EXEC] },
  { name: 'debian-6.12-bpo', suite: 'bookworm-backports', userland: 'bookworm', flavors: ['kfunc', 'kprobe'], auto: 'kfunc', refused: [] },
  { name: 'debian-13', suite: 'trixie', userland: 'trixie', flavors: ['kfunc', 'kprobe', 'tracepoint'], auto: 'kfunc', refused: [] },
];

export function targetNamed(name: string): KernelTarget {
  const t = KERNEL_TARGETS.find((k) => k.name === name);
  if (!t) throw new Error(`unknown VM target ${JSON.stringify(name)}; known: ${KERNEL_TARGETS.map((k) => k.name).join(', ')}`);
  return t;
}

export interface FetchedKernel {
  target: KernelTarget;
  /** The image package, e.g. linux-image-6.12.43+deb12-amd64. */
  pkg: string;
  version: string;
  vmlinuz: string;
  /** Directory holding the extracted modules the guest loads (overlay for the lab). */
  modulesDir: string;
  release: string;
}

const MIRROR = 'http://deb.debian.org/debian';
const SECURITY = 'http://deb.debian.org/debian-security';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** Modules copied into the guest: overlayfs for the stacked-filesystem scenario. */
const WANTED_MODULES = ['fs/overlayfs/overlay.ko'];
/** Re-resolve the newest kernel at most this often (the apt update costs ~10 s). */
const RESOLVE_TTL_MS = 24 * 3600 * 1000;

const aptDir = join(VM_CACHE, 'apt');

function aptOptions(): string[] {
  return [
    '-o',
    `Dir::Etc::SourceList=${join(aptDir, 'sources.list')}`,
    '-o',
    'Dir::Etc::SourceParts=/nonexistent',
    '-o',
    `Dir::Etc::Preferences=${join(aptDir, 'preferences')}`,
    '-o',
    'Dir::Etc::PreferencesParts=/nonexistent',
    '-o',
    `Dir::State=${join(aptDir, 'state')}`,
    '-o',
    `Dir::State::status=${join(aptDir, 'state', 'status')}`,
    '-o',
    `Dir::Cache=${join(aptDir, 'cache')}`,
    '-o',
    'APT::Architecture=amd64',
    '-o',
    'Debug::NoLocking=1',
  ];
}

function writeAptConfig(): void {
  mkdirSync(join(aptDir, 'state', 'lists', 'partial'), { recursive: true });
  mkdirSync(join(aptDir, 'cache', 'archives', 'partial'), { recursive: true });
  const opt = `[arch=amd64 signed-by=${KEYRING}]`;
  writeFileSync(
    join(aptDir, 'sources.list'),
    [
      // Every suite a target's kernel comes from (bullseye is still on deb.debian.org as
      // oldoldstable), with its updates and security: the host's sources are not ours to change.
      ...['bullseye', 'bookworm', 'trixie'].flatMap((suite) => [
        `deb ${opt} ${MIRROR} ${suite} main`,
        `deb ${opt} ${MIRROR} ${suite}-updates main`,
        `deb ${opt} ${SECURITY} ${suite}-security main`,
      ]),
      `deb ${opt} ${MIRROR} bookworm-backports main`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(aptDir, 'preferences'), '');
  if (!existsSync(join(aptDir, 'state', 'status'))) writeFileSync(join(aptDir, 'state', 'status'), '');
}

async function apt(tool: 'apt-get' | 'apt-cache', args: string[], cwd?: string): Promise<string> {
  const r = await execa(tool, [...aptOptions(), ...args], { cwd, reject: false });
  if (r.exitCode !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.exitCode}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

// One update per process, shared by kernels fetched concurrently.
let aptUpdated: Promise<void> | null = null;
function aptUpdate(): Promise<void> {
  aptUpdated ??= (async () => {
    writeAptConfig();
    log('apt-get update (private config: bullseye, bookworm, bookworm-backports, trixie)');
    await apt('apt-get', ['-q', 'update']);
  })();
  return aptUpdated;
}

/** Parses `apt-cache show` output into stanzas of fields. */
function stanzas(text: string): Map<string, string>[] {
  return text
    .split(/\n\s*\n/)
    .filter((s) => s.trim())
    .map((s) => {
      const m = new Map<string, string>();
      for (const line of s.split('\n')) {
        const i = line.indexOf(':');
        if (i > 0 && !line.startsWith(' ')) m.set(line.slice(0, i), line.slice(i + 1).trim());
      }
      return m;
    });
}

/** Which linux-image-* the suite's linux-image-amd64 points at. */
async function resolveImagePackage(target: KernelTarget): Promise<{ pkg: string; version: string }> {
  await aptUpdate();
  const meta = stanzas(await apt('apt-cache', ['show', '--no-all-versions', `linux-image-amd64/${target.suite}`]))[0];
  const dep = meta?.get('Depends')?.match(/(linux-image-[^\s,(]+)/)?.[1];
  if (!dep) throw new Error(`cannot resolve linux-image-amd64/${target.suite}: no Depends`);
  // The image package exists in exactly one version per suite; take the newest stanza.
  const img = stanzas(await apt('apt-cache', ['show', '--no-all-versions', dep]))[0];
  const version = img?.get('Version');
  if (!version) throw new Error(`apt-cache show ${dep}: no Version`);
  return { pkg: dep, version };
}

function resolvedFile(target: KernelTarget): string {
  return join(VM_CACHE, 'kernels', target.suite, 'resolved.json');
}

export async function fetchKernel(target: KernelTarget): Promise<FetchedKernel> {
  const rf = resolvedFile(target);
  let resolved: { pkg: string; version: string } | null = null;
  const fresh = existsSync(rf) && Date.now() - statSync(rf).mtimeMs < RESOLVE_TTL_MS && process.env.EXETRACE_VM_REFRESH !== '1';
  if (fresh) resolved = JSON.parse(readFileSync(rf, 'utf8')) as { pkg: string; version: string };
  if (!resolved) {
    resolved = await resolveImagePackage(target);
    mkdirSync(join(VM_CACHE, 'kernels', target.suite), { recursive: true });
    writeFileSync(rf, JSON.stringify(resolved));
  }
  const dir = join(VM_CACHE, 'kernels', target.suite, resolved.version);
  const done = join(dir, 'kernel.json');
  if (existsSync(done)) return { target, ...(JSON.parse(readFileSync(done, 'utf8')) as Omit<FetchedKernel, 'target'>) };

  await aptUpdate();
  const scratch = `${dir}.tmp`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  log(`apt-get download ${resolved.pkg}=${resolved.version}`);
  await apt('apt-get', ['-q', 'download', `${resolved.pkg}=${resolved.version}`], scratch);
  const deb = readdirSync(scratch).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${resolved.pkg} left no .deb in ${scratch}`);
  const tree = join(scratch, 'tree');
  await execa('dpkg-deb', ['-x', join(scratch, deb), tree]);
  const boot = readdirSync(join(tree, 'boot'));
  const vmlinuzName = boot.find((f) => f.startsWith('vmlinuz-'));
  if (!vmlinuzName) throw new Error(`${deb}: no /boot/vmlinuz-*`);
  const release = vmlinuzName.slice('vmlinuz-'.length);
  mkdirSync(join(scratch, 'out', 'modules'), { recursive: true });
  renameSync(join(tree, 'boot', vmlinuzName), join(scratch, 'out', 'vmlinuz'));
  // Merged-/usr packages (trixie) ship modules under usr/lib/modules.
  const modRoot = ['lib', 'usr/lib'].map((d) => join(tree, d, 'modules', release, 'kernel')).find((d) => existsSync(d));
  if (!modRoot) throw new Error(`${deb}: no lib/modules/${release} or usr/lib/modules/${release}`);
  for (const m of WANTED_MODULES) {
    // Debian compresses modules in newer kernels (.ko.xz): decompress here, so any guest kmod loads them.
    const dest = join(scratch, 'out', 'modules', m.split('/').pop()!);
    const shipped = ['', '.xz', '.zst'].map((suffix) => join(modRoot, m + suffix)).find((p) => existsSync(p));
    if (!shipped) throw new Error(`${deb}: ${m} is not in the package (the lab's stacked-filesystem scenario needs it)`);
    if (shipped.endsWith('.xz')) await execa('sh', ['-c', `xz -dc '${shipped}' > '${dest}'`]);
    else if (shipped.endsWith('.zst')) await execa('zstd', ['-q', '-d', shipped, '-o', dest]);
    else renameSync(shipped, dest);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(join(scratch, 'out'), dir);
  rmSync(scratch, { recursive: true, force: true });
  const info = { pkg: resolved.pkg, version: resolved.version, vmlinuz: join(dir, 'vmlinuz'), modulesDir: join(dir, 'modules'), release };
  writeFileSync(done, JSON.stringify(info));
  return { target, ...info };
}
