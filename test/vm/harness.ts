// Puts the pieces together for one kernel: the built project, the host's Node (Node 20, built
// against bookworm's glibc: it runs on bookworm and on trixie's newer one), the host-built lab
// binaries, and the bundled guest driver; boots, and returns what came back.
import { execa } from 'execa';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bootGuest, type GuestResult } from './boot.js';
import { fetchKernel, type KernelTarget } from './fetch.js';
import { PROJECT_ROOT, VM_CACHE, log } from './paths.js';
import { ensureRootfs, type OverlayFile } from './rootfs.js';
import type { Flavor } from '../../src/trace/trace-format.js';
import { scenarios, type ScenarioId } from '../lab/scenarios.js';

/** Production dependencies only (what dist/ imports at run time). */
async function runtimeModules(): Promise<OverlayFile[]> {
  const r = await execa('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: PROJECT_ROOT, reject: false });
  return (
    r.stdout
      .split('\n')
      .filter((p) => p.startsWith(join(PROJECT_ROOT, 'node_modules') + '/'))
      // Nested packages come with their parent's directory copy.
      .filter((p, _i, all) => !all.some((q) => q !== p && p.startsWith(q + '/')))
      .map((p) => ({ guestPath: join('/opt/exetrace', p.slice(PROJECT_ROOT.length)), from: p }))
  );
}

let bundled: Promise<string> | null = null;
/** The lab driver with the lab and its imports in one file: no tsx in the guest. Once per process. */
function bundleDriver(): Promise<string> {
  bundled ??= bundle();
  return bundled;
}

async function bundle(): Promise<string> {
  const out = join(VM_CACHE, 'guest-driver.mjs');
  mkdirSync(VM_CACHE, { recursive: true });
  await execa(join(PROJECT_ROOT, 'node_modules', '.bin', 'esbuild'), [
    join(PROJECT_ROOT, 'test', 'vm', 'guest-driver.ts'),
    '--bundle',
    '--platform=node',
    '--format=esm',
    '--target=node20',
    `--outfile=${out}`,
    '--log-level=warning',
  ]);
  return out;
}

/** What the guest driver does, written to /opt/exetrace/vm-plan.json. */
export interface GuestPlan {
  /** Record the lab with each of these. */
  flavors: Flavor[];
  /** Try `exetrace record --flavor F` for each; it must refuse with a reason. */
  refused: Flavor[];
  /** Only these lab scenarios (default: all). */
  only?: ScenarioId[];
  /** Instead of the lab: run this script under `exetrace record --flavor flavors[0]` (npm run vm). */
  script?: boolean;
}

export interface GuestRunOptions {
  /** The build to test (default: the project's dist/). */
  distDir?: string;
  /** Default: the target's flavors and refusals, around the lab. */
  plan?: GuestPlan;
  /** Shell script the plan's `script` runs (copied to /opt/exetrace/vm-script.sh). */
  scriptFile?: string;
}

export async function runInGuest(target: KernelTarget, opts: GuestRunOptions = {}): Promise<GuestResult> {
  const distDir = opts.distDir ?? join(PROJECT_ROOT, 'dist');
  if (!existsSync(join(distDir, 'src', 'cli', 'main.js'))) throw new Error(`${distDir} has no src/cli/main.js: run npm run build first`);
  const skip = new Set((target.skipScenarios ?? []).map((x) => x.id));
  const plan: GuestPlan = opts.plan ?? {
    flavors: target.flavors,
    refused: target.refused.map((r) => r.flavor),
    ...(skip.size ? { only: scenarios.map((s) => s.id).filter((id) => !skip.has(id)) } : {}),
  };
  const [kernel, rootfs, driver, modules] = await Promise.all([fetchKernel(target), ensureRootfs(target.userland), bundleDriver(), runtimeModules()]);
  // The lab compiles on first use; build on the host so the guest needs no gcc.
  const { buildLab } = await import('../lab/build.js');
  buildLab();
  const labBuild = join(PROJECT_ROOT, 'test', 'lab', 'build');
  const job = [
    'mkdir -p /results',
    'cd /opt/exetrace',
    'node /opt/exetrace/test/lab/vm-guest-driver.mjs > /results/driver.log 2>&1',
    'echo "driver rc $?" >> /results/driver.log',
  ].join('\n');
  log(`${target.name}: kernel ${kernel.release}, ${modules.length} runtime packages`);
  return bootGuest({
    kernel,
    rootfs,
    job,
    timeoutMs: 45 * 60_000,
    extraFiles: [
      { guestPath: '/opt/exetrace/vm-plan.json', content: JSON.stringify(plan) },
      ...(opts.scriptFile ? [{ guestPath: '/opt/exetrace/vm-script.sh', from: opts.scriptFile, mode: 0o755 }] : []),
      { guestPath: '/usr/local/bin/node', from: process.execPath, mode: 0o755 },
      { guestPath: '/opt/exetrace/package.json', from: join(PROJECT_ROOT, 'package.json') },
      { guestPath: '/opt/exetrace/dist', from: distDir },
      { guestPath: '/opt/exetrace/probes', from: join(PROJECT_ROOT, 'probes') },
      // The shipped exception list: record loads it at start and stops if it is missing.
      { guestPath: '/opt/exetrace/config', from: join(PROJECT_ROOT, 'config') },
      // The lab finds its build/ and scripts next to its own module (import.meta.url): in the bundle
      // that is the driver's path, so the driver sits in test/lab/.
      { guestPath: '/opt/exetrace/test/lab/vm-guest-driver.mjs', from: driver },
      { guestPath: '/opt/exetrace/test/lab/build', from: labBuild, preserveTimes: true },
      { guestPath: '/opt/exetrace/test/lab/src', from: join(PROJECT_ROOT, 'test', 'lab', 'src'), preserveTimes: true },
      { guestPath: '/opt/exetrace/test/lab/nested-overlay.sh', from: join(PROJECT_ROOT, 'test', 'lab', 'nested-overlay.sh'), mode: 0o755 },
      { guestPath: '/opt/exetrace/test/lab/single-overlay.sh', from: join(PROJECT_ROOT, 'test', 'lab', 'single-overlay.sh'), mode: 0o755 },
      ...modules,
    ],
  });
}
