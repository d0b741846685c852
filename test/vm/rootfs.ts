// The guest userland: a debootstrapped minbase (bookworm with bpftrace 0.17, or trixie with
// bpftrace 0.23), packed once into a compressed cpio (cached, keyed by suite and package list),
// plus a small plain cpio built per run with the project, the host's Node, the kernel's extra
// modules and the init script.
import { execa } from 'execa';
import { appendFileSync, chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { VM_CACHE, log } from './paths.js';

/** Debian suites a guest userland comes from (each brings its own bpftrace). */
export type UserlandSuite = 'bookworm' | 'trixie';
const MIRROR = 'http://deb.debian.org/debian';
/** kmod loads overlay.ko for the stacked-filesystem scenario; bpftrace is the point. */
const INCLUDE = ['bpftrace', 'kmod'];
/** Big and useless in the guest: docs, locales, apt state. */
const TRIM = ['usr/share/doc', 'usr/share/man', 'usr/share/locale', 'usr/share/info', 'var/cache/apt', 'var/lib/apt/lists', 'usr/share/zoneinfo'];

function rootfsKey(suite: UserlandSuite): string {
  const h = createHash('sha256')
    .update(JSON.stringify({ suite, INCLUDE, TRIM, v: 1 }))
    .digest('hex')
    .slice(0, 12);
  return `${suite}-minbase-${h}`;
}

const building = new Map<UserlandSuite, Promise<string>>();
/** Returns the path of the suite's compressed rootfs cpio, building it when absent (once per process). */
export function ensureRootfs(suite: UserlandSuite): Promise<string> {
  let b = building.get(suite);
  if (!b) building.set(suite, (b = buildRootfs(suite)));
  return b;
}

async function buildRootfs(suite: UserlandSuite): Promise<string> {
  const dir = join(VM_CACHE, 'rootfs');
  const out = join(dir, `${rootfsKey(suite)}.cpio.zst`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tree = join(dir, `${rootfsKey(suite)}.tree`);
  // One .deb cache per suite: debootstrap picks cached debs by name, and the suites share names.
  const debs = join(VM_CACHE, 'debootstrap-debs', suite);
  mkdirSync(debs, { recursive: true });
  rmSync(tree, { recursive: true, force: true });
  log(`debootstrap --variant=minbase ${suite} with ${INCLUDE.join(',')}`);
  const r = await execa('debootstrap', ['--variant=minbase', `--include=${INCLUDE.join(',')}`, `--cache-dir=${debs}`, suite, tree, MIRROR], {
    reject: false,
    all: true,
  });
  if (r.exitCode !== 0) throw new Error(`debootstrap failed (${r.exitCode}):\n${(r.all ?? '').slice(-3000)}`);
  for (const t of TRIM) rmSync(join(tree, t), { recursive: true, force: true });
  log('packing rootfs cpio (zstd)');
  const tmp = `${out}.tmp`;
  await packCpio(tree, tmp, true);
  padTo4(tmp);
  renameSync(tmp, out);
  rmSync(tree, { recursive: true, force: true });
  log(`rootfs ready: ${(statSync(out).size / 1e6).toFixed(1)} MB`);
  return out;
}

/** cpio newc of a directory tree, optionally zstd-compressed. */
export async function packCpio(tree: string, outFile: string, compress: boolean): Promise<void> {
  const cmd = compress
    ? `find . -print0 | cpio --null -o -H newc --quiet | zstd -q -T0 -6 > '${outFile}'`
    : `find . -print0 | cpio --null -o -H newc --quiet > '${outFile}'`;
  await execa('sh', ['-c', cmd], { cwd: tree });
}

/** The kernel finds the next archive only at a 4-byte boundary after a compressed one. */
export function padTo4(file: string): void {
  const size = statSync(file).size;
  const pad = (4 - (size % 4)) % 4;
  if (pad) appendFileSync(file, Buffer.alloc(pad));
}

export interface OverlayFile {
  /** Path inside the guest, absolute. */
  guestPath: string;
  /** Host file or directory to copy, or literal content. */
  from?: string;
  content?: string;
  mode?: number;
  /** Keep mtimes (the lab rebuilds a binary older than its source). */
  preserveTimes?: boolean;
}

/** Builds the per-run plain cpio from host files. */
export async function buildOverlay(files: OverlayFile[], outFile: string): Promise<void> {
  const stage = `${outFile}.stage`;
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  for (const f of files) {
    const dest = join(stage, f.guestPath);
    mkdirSync(join(dest, '..'), { recursive: true });
    if (f.content !== undefined) writeFileSync(dest, f.content);
    else if (f.from !== undefined) {
      if (statSync(f.from).isDirectory()) cpSync(f.from, dest, { recursive: true, dereference: true, preserveTimestamps: f.preserveTimes ?? false });
      else copyFileSync(f.from, dest);
    }
    if (f.mode !== undefined) chmodSync(dest, f.mode);
  }
  await packCpio(stage, outFile, false);
  rmSync(stage, { recursive: true, force: true });
}
