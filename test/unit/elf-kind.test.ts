// The ELF structure that tells a loader from a program, read from real files on this host.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { elfKindOf, elfKindOfFile } from '../../src/trace/elf-kind.js';
import { codeRange, readAuxvBase } from '../../src/trace/proc-snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'exetrace-truth-elf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function compile(name: string, flags: string[]): string {
  const src = join(dir, `${name}.c`);
  writeFileSync(src, 'int main(void) { return 0; }\n');
  const out = join(dir, name);
  execFileSync('gcc', [...flags, '-o', out, src], { stdio: 'pipe' });
  return out;
}

describe('elfKindOfFile', () => {
  it('ld.so is a shared object without an interpreter, under any name', () => {
    expect(elfKindOfFile(realpathSync('/lib64/ld-linux-x86-64.so.2'))).toBe('shared-object');
  });

  it('programs and libraries that ask for an interpreter are dynamic', () => {
    expect(elfKindOfFile('/bin/true')).toBe('dynamic');
    expect(elfKindOfFile(process.execPath)).toBe('dynamic');
    // glibc's libc.so.6 can be run: it carries PT_INTERP.
    expect(elfKindOfFile(realpathSync('/lib/x86_64-linux-gnu/libc.so.6'))).toBe('dynamic');
  });

  it('a static-pie carries DF_1_PIE and is not a loader; a static executable is ET_EXEC', () => {
    expect(elfKindOfFile(compile('spie', ['-static-pie']))).toBe('static-pie');
    expect(elfKindOfFile(compile('static', ['-static']))).toBe('static');
  });

  it('anything else is not-elf, including a truncated header', () => {
    const script = join(dir, 'x.sh');
    writeFileSync(script, '#!/bin/sh\nexit 0\n');
    expect(elfKindOfFile(script)).toBe('not-elf');
    const head = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    expect(elfKindOf((o, n) => head.subarray(o, o + n))).toBe('not-elf');
  });
});

describe('auxv and stat readers', () => {
  it('AT_BASE of this process is where its interpreter is mapped', () => {
    const base = readAuxvBase('/proc/self/auxv');
    expect(base).toBeGreaterThan(0);
    const maps = execFileSync('cat', [`/proc/${process.pid}/maps`], { encoding: 'utf8' });
    expect(maps).toMatch(new RegExp(`^${base!.toString(16)}-[0-9a-f]+ r..p 00000000 .*ld-linux`, 'm'));
    expect(readAuxvBase(join(dir, 'missing'))).toBeNull();
  });

  it('start_code and end_code from /proc/pid/stat, whatever the comm holds', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    expect(codeRange(`12 (a) b) c) ${fields.join(' ')}`)).toEqual([26, 27]);
  });
});
