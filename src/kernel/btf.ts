// A minimal reader of the kernel's BTF (/sys/kernel/btf/vmlinux): enough to find a struct
// member's offset (bpftrace 0.17 has no offsetof, so probes get offsets as parameters) and to
// check whether a function exists and how many parameters it takes (the flavor ladder).
// Format: include/uapi/linux/btf.h and Documentation/bpf/btf.rst.
import { readFileSync } from 'node:fs';

export const VMLINUX_BTF_PATH = '/sys/kernel/btf/vmlinux';

const BTF_MAGIC = 0xeb9f;

export const BtfKind = {
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

export interface BtfMember {
  name: string;
  type: number;
  /** Offset from the start of the struct, in bits. */
  bitOffset: number;
  /** Non-zero for bitfields (only when the struct's kind_flag is set). */
  bitfieldSize: number;
}

export interface BtfType {
  id: number;
  kind: number;
  name: string;
  vlen: number;
  kindFlag: boolean;
  /** size for INT/STRUCT/UNION/ENUM/DATASEC/FLOAT, referenced type id for the others. */
  sizeOrType: number;
  /** STRUCT/UNION members. */
  members?: BtfMember[];
  /** FUNC_PROTO parameter count. */
  paramCount?: number;
}

export class BtfError extends Error {}

export class Btf {
  private readonly data: Buffer;
  private readonly source: string;
  private readonly strings: Buffer;
  /** Byte offset of each type's record in `data` (index = type id; 0 is void). */
  private readonly offsets: Uint32Array;
  private readonly count: number;
  private readonly decoded = new Map<number, BtfType>();

  /**
   * Checks the layout of a BTF blob (throws BtfError naming the offset on malformed input) and
   * indexes where each type starts; types are decoded only when asked for. A full decode of the
   * kernel's 5 MB took about 0.3 s of the recorder's start-up for the three lookups it needs.
   */
  constructor(data: Buffer, source = 'BTF') {
    if (data.length < 24) throw new BtfError(`${source}: too short for a BTF header (${data.length} bytes)`);
    const magic = data.readUInt16LE(0);
    // Big-endian BTF would read as 0x9feb; this host and our targets are little-endian.
    if (magic !== BTF_MAGIC) throw new BtfError(`${source}: bad magic 0x${magic.toString(16)}`);
    const hdrLen = data.readUInt32LE(4);
    const typeOff = data.readUInt32LE(8);
    const typeLen = data.readUInt32LE(12);
    const strOff = data.readUInt32LE(16);
    const strLen = data.readUInt32LE(20);
    const typeStart = hdrLen + typeOff;
    const strStart = hdrLen + strOff;
    if (typeStart + typeLen > data.length || strStart + strLen > data.length) {
      throw new BtfError(`${source}: sections run past the end of the data`);
    }
    this.data = data;
    this.source = source;
    this.strings = data.subarray(strStart, strStart + strLen);
    // Every type record is at least 12 bytes: an upper bound on the count.
    let offsets = new Uint32Array(Math.floor(typeLen / 12) + 2);
    let n = 1;
    let pos = typeStart;
    const end = typeStart + typeLen;
    while (pos < end) {
      if (pos + 12 > end) throw new BtfError(`${source}: truncated type at offset ${pos}`);
      const nameOff = data.readUInt32LE(pos);
      if (nameOff >= this.strings.length) throw new BtfError(`${source}: string offset ${nameOff} out of range`);
      const info = data.readUInt32LE(pos + 4);
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      const extra = extraBytes(kind, vlen);
      if (extra === null) throw new BtfError(`${source}: unknown BTF kind ${kind} for type ${n} at offset ${pos}`);
      if (pos + 12 + extra > end) throw new BtfError(`${source}: truncated type ${n} (kind ${kind}) at offset ${pos + 12}`);
      offsets[n++] = pos;
      pos += 12 + extra;
    }
    if (n < offsets.length) offsets = offsets.subarray(0, n);
    this.offsets = offsets;
    this.count = n;
  }

  static fromFile(path = VMLINUX_BTF_PATH): Btf {
    return new Btf(readFileSync(path), path);
  }

  get typeCount(): number {
    return this.count - 1;
  }

  private nameAt(off: number): string {
    if (off >= this.strings.length) throw new BtfError(`${this.source}: string offset ${off} out of range`);
    const end = this.strings.indexOf(0, off);
    return this.strings.toString('latin1', off, end < 0 ? this.strings.length : end);
  }

  type(id: number): BtfType | undefined {
    if (!Number.isInteger(id) || id < 0 || id >= this.count) return undefined;
    if (id === 0) return { id: 0, kind: 0, name: 'void', vlen: 0, kindFlag: false, sizeOrType: 0 };
    const cached = this.decoded.get(id);
    if (cached !== undefined) return cached;
    const data = this.data;
    let pos = this.offsets[id]!;
    const info = data.readUInt32LE(pos + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kindFlag = info >>> 31 === 1;
    const t: BtfType = { id, kind, name: this.nameAt(data.readUInt32LE(pos)), vlen, kindFlag, sizeOrType: data.readUInt32LE(pos + 8) };
    pos += 12;
    if (kind === BtfKind.STRUCT || kind === BtfKind.UNION) {
      const members: BtfMember[] = [];
      for (let i = 0; i < vlen; i++, pos += 12) {
        const off = data.readUInt32LE(pos + 8);
        members.push({
          name: this.nameAt(data.readUInt32LE(pos)),
          type: data.readUInt32LE(pos + 4),
          bitOffset: kindFlag ? off & 0xffffff : off,
          bitfieldSize: kindFlag ? off >>> 24 : 0,
        });
      }
      t.members = members;
    } else if (kind === BtfKind.FUNC_PROTO) {
      // A trailing param with name 0 and type 0 marks varargs; it is not a parameter.
      t.paramCount = vlen > 0 && data.readUInt32LE(pos + 8 * (vlen - 1) + 4) === 0 ? vlen - 1 : vlen;
    }
    this.decoded.set(id, t);
    return t;
  }

  /** The first type with this name and kind (a name can be both a struct and a typedef). */
  find(name: string, kind: number): BtfType | undefined {
    if (name === '') return undefined;
    // The string section is deduplicated: find the name's offsets natively, then the types using them.
    const needle = Buffer.from(`\0${name}\0`, 'latin1');
    const at = new Set<number>();
    for (let i = this.strings.indexOf(needle); i >= 0; i = this.strings.indexOf(needle, i + 1)) at.add(i + 1);
    if (this.strings.subarray(0, needle.length - 1).equals(needle.subarray(1))) at.add(0);
    if (at.size === 0) return undefined;
    const data = this.data;
    for (let id = 1; id < this.count; id++) {
      const pos = this.offsets[id]!;
      if (!at.has(data.readUInt32LE(pos)) || ((data.readUInt32LE(pos + 4) >>> 24) & 0x1f) !== kind) continue;
      return this.type(id);
    }
    return undefined;
  }

  /** A named struct's complete definition (skips forward declarations). */
  struct(name: string): BtfType | undefined {
    return this.find(name, BtfKind.STRUCT);
  }

  /**
   * Bit offset of `member` inside struct `structName`, looking through anonymous struct/union
   * members as C does; null when either is missing.
   */
  memberBitOffset(structName: string, member: string): number | null {
    const s = this.struct(structName);
    return s ? this.memberOffsetIn(s, member, 0) : null;
  }

  /** Byte offset of a member; null when missing or when it is a bitfield not on a byte boundary. */
  memberByteOffset(structName: string, member: string): number | null {
    const bits = this.memberBitOffset(structName, member);
    return bits === null || bits % 8 !== 0 ? null : bits / 8;
  }

  private memberOffsetIn(t: BtfType, member: string, base: number): number | null {
    for (const m of t.members ?? []) {
      if (m.name === member) return base + m.bitOffset;
    }
    for (const m of t.members ?? []) {
      if (m.name !== '') continue;
      const inner = this.resolveModifiers(m.type);
      if (inner && (inner.kind === BtfKind.STRUCT || inner.kind === BtfKind.UNION)) {
        const found = this.memberOffsetIn(inner, member, base + m.bitOffset);
        if (found !== null) return found;
      }
    }
    return null;
  }

  private resolveModifiers(id: number): BtfType | undefined {
    let t = this.type(id);
    for (let hops = 0; t && hops < 32; hops++) {
      if (t.kind !== BtfKind.TYPEDEF && t.kind !== BtfKind.VOLATILE && t.kind !== BtfKind.CONST && t.kind !== BtfKind.RESTRICT && t.kind !== BtfKind.TYPE_TAG)
        return t;
      t = this.type(t.sizeOrType);
    }
    return t;
  }

  /** Whether a FUNC with this name exists, and its parameter count (from its FUNC_PROTO). */
  func(name: string): { exists: true; paramCount: number } | { exists: false } {
    const f = this.find(name, BtfKind.FUNC);
    if (!f) return { exists: false };
    const proto = this.type(f.sizeOrType);
    return { exists: true, paramCount: proto?.kind === BtfKind.FUNC_PROTO ? (proto.paramCount ?? 0) : 0 };
  }
}

/** Byte offset of `struct vfsmount mnt` inside `struct mount`: the probes' container_of. */
export function mountMntOffset(btf: Btf): number {
  const off = btf.memberByteOffset('mount', 'mnt');
  if (off === null) throw new BtfError('BTF has no struct mount with a member mnt');
  return off;
}

/** Byte offset of a member of struct task_struct: comm (exec_begin's $5), sibling (fork's $6). */
export function taskMemberOffset(btf: Btf, member: 'comm' | 'sibling'): number {
  const off = btf.memberByteOffset('task_struct', member);
  if (off === null) throw new BtfError(`BTF has no struct task_struct with a member ${member}`);
  return off;
}

/** Bytes after a type's 12-byte header, by kind (btf.rst); null for a kind this reader does not know. */
function extraBytes(kind: number, vlen: number): number | null {
  switch (kind) {
    case BtfKind.INT:
    case BtfKind.VAR:
    case BtfKind.DECL_TAG:
      return 4;
    case BtfKind.ARRAY:
      return 12;
    case BtfKind.STRUCT:
    case BtfKind.UNION:
    case BtfKind.DATASEC:
    case BtfKind.ENUM64:
      return 12 * vlen;
    case BtfKind.ENUM:
    case BtfKind.FUNC_PROTO:
      return 8 * vlen;
    case BtfKind.PTR:
    case BtfKind.FWD:
    case BtfKind.TYPEDEF:
    case BtfKind.VOLATILE:
    case BtfKind.CONST:
    case BtfKind.RESTRICT:
    case BtfKind.FUNC:
    case BtfKind.FLOAT:
    case BtfKind.TYPE_TAG:
      return 0;
    default:
      return null;
  }
}
