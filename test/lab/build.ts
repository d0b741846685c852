// Compiles the scenario lab's C programs with the machine's gcc into test/lab/build/ (gitignored).
// Skips a program whose binary is newer than its source and lab.h.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const labDir = dirname(fileURLToPath(import.meta.url));
export const labSrcDir = join(labDir, 'src');
export const labBuildDir = join(labDir, 'build');

interface LabProgram {
  name: LabProgramName;
  flags: string[];
}

export type LabProgramName = 'sleeper' | 'decoy' | 'textunmap' | 'exereplace' | 'memfdexec' | 'execat' | 'selfclone';

const programs: LabProgram[] = [
  { name: 'sleeper', flags: [] },
  { name: 'decoy', flags: [] },
  { name: 'textunmap', flags: [] },
  { name: 'exereplace', flags: [] },
  { name: 'memfdexec', flags: [] },
  { name: 'execat', flags: [] },
  { name: 'selfclone', flags: [] },
];

function mtimeMs(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

function findGcc(): string {
  const cc = process.env.CC ?? 'gcc';
  try {
    execFileSync(cc, ['--version'], { stdio: 'pipe' });
  } catch {
    throw new Error(`scenario lab: C compiler "${cc}" not found; install it (apt-get install gcc) or set CC`);
  }
  return cc;
}

/** Builds every lab program that is missing or stale; returns name → absolute binary path. */
export function buildLab(): Record<LabProgramName, string> {
  mkdirSync(labBuildDir, { recursive: true });
  const header = mtimeMs(join(labSrcDir, 'lab.h')) ?? 0;
  let cc: string | null = null;
  const out = {} as Record<LabProgramName, string>;
  for (const program of programs) {
    const src = join(labSrcDir, `${program.name}.c`);
    const bin = join(labBuildDir, program.name);
    const srcTime = mtimeMs(src);
    if (srcTime === null) throw new Error(`scenario lab: missing source ${src}`);
    const binTime = mtimeMs(bin);
    if (binTime === null || binTime < Math.max(srcTime, header)) {
      cc ??= findGcc();
      // Build to a private name, then rename: concurrent builders never see half a binary.
      const tmp = `${bin}.tmp-${process.pid}`;
      try {
        execFileSync(cc, ['-O1', '-g', '-Wall', '-Werror', ...program.flags, '-o', tmp, src], { stdio: 'pipe' });
      } catch (err) {
        const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
        throw new Error(`scenario lab: gcc failed on ${src}:\n${stderr}`, { cause: err });
      }
      renameSync(tmp, bin);
    }
    out[program.name] = bin;
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [name, path] of Object.entries(buildLab())) console.log(`${name}\t${path}`);
}
