// What kind of ELF file an executable is, from its own structure (never its name): the ELF
// header's e_type, whether a PT_INTERP program header asks for an interpreter, and the dynamic
// section's DF_1_PIE flag. That is what tells a loader run as a program (ld.so: a shared object
// with no interpreter) from a static-pie or a static executable. Reads a few KiB at most.
import { closeSync, openSync, readSync } from 'node:fs';
import type { ElfKind } from './events.js';

const ET_EXEC = 2;
const ET_DYN = 3;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_FLAGS_1 = 0x6ffffffb;
const DF_1_PIE = 0x08000000;
/** Enough for any real program-header table and dynamic section; more is not read. */
const MAX_TABLE = 64 * 1024;

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, offset);
  return buf.subarray(0, n);
}

/** Classify an ELF image given random access to its bytes. Exported for tests on plain buffers. */
export function elfKindOf(read: (offset: number, length: number) => Buffer): ElfKind {
  const h = read(0, 64);
  if (h.length < 52 || h.readUInt32BE(0) !== 0x7f454c46) return 'not-elf';
  const is64 = h[4] === 2;
  const le = h[5] === 1;
  if ((h[4] !== 1 && !is64) || (h[5] !== 1 && h[5] !== 2) || (is64 && h.length < 64)) return 'not-elf';
  const u16 = (b: Buffer, o: number): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const word = (b: Buffer, o: number): number => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o));
  const type = u16(h, 16);
  if (type !== ET_EXEC && type !== ET_DYN) return 'not-elf';
  const phoff = word(h, is64 ? 32 : 28);
  const phentsize = u16(h, is64 ? 54 : 42);
  const phnum = u16(h, is64 ? 56 : 44);
  if (phentsize < (is64 ? 56 : 32) || phnum * phentsize > MAX_TABLE) return 'not-elf';
  const ph = read(phoff, phnum * phentsize);
  let interp = false;
  let dyn: { offset: number; size: number } | null = null;
  for (let i = 0; (i + 1) * phentsize <= ph.length; i++) {
    const o = i * phentsize;
    const pType = u32(ph, o);
    if (pType === PT_INTERP) interp = true;
    if (pType === PT_DYNAMIC) dyn = { offset: word(ph, o + (is64 ? 8 : 4)), size: Math.min(word(ph, o + (is64 ? 32 : 16)), MAX_TABLE) };
  }
  if (interp) return 'dynamic';
  if (type === ET_EXEC) return 'static';
  let pie = false;
  if (dyn !== null) {
    const d = read(dyn.offset, dyn.size);
    const entry = is64 ? 16 : 8;
    for (let o = 0; o + entry <= d.length; o += entry) {
      const tag = word(d, o);
      if (tag === DT_NULL) break;
      if (tag === DT_FLAGS_1 && (word(d, o + entry / 2) & DF_1_PIE) !== 0) pie = true;
    }
  }
  return pie ? 'static-pie' : 'shared-object';
}

/** The kind of the ELF file at `path` (e.g. /proc/PID/exe); throws like fs calls do. */
export function elfKindOfFile(path: string): ElfKind {
  const fd = openSync(path, 'r');
  try {
    return elfKindOf((offset, length) => readAt(fd, offset, length));
  } finally {
    closeSync(fd);
  }
}
