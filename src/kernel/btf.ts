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
  private readonly types: BtfType[] = [];
  private readonly byName = new Map<string, number[]>();

  /** Parses a BTF blob; throws BtfError naming the offset on malformed input. */
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
    const strings = data.subarray(strStart, strStart + strLen);
    const nameAt = (off: number): string => {
      if (off >= strings.length) throw new BtfError(`${source}: string offset ${off} out of range`);
      const end = strings.indexOf(0, off);
      return strings.toString('latin1', off, end < 0 ? strings.length : end);
    };

    this.types.push({ id: 0, kind: 0, name: 'void', vlen: 0, kindFlag: false, sizeOrType: 0 });
    let pos = typeStart;
    const end = typeStart + typeLen;
    while (pos < end) {
      if (pos + 12 > end) throw new BtfError(`${source}: truncated type at offset ${pos}`);
      const nameOff = data.readUInt32LE(pos);
      const info = data.readUInt32LE(pos + 4);
      const sizeOrType = data.readUInt32LE(pos + 8);
      pos += 12;
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      const kindFlag = info >>> 31 === 1;
      const t: BtfType = { id: this.types.length, kind, name: nameAt(nameOff), vlen, kindFlag, sizeOrType };
      const need = (n: number) => {
        if (pos + n > end) throw new BtfError(`${source}: truncated type ${t.id} (kind ${kind}) at offset ${pos}`);
      };
      switch (kind) {
        case BtfKind.INT:
        case BtfKind.VAR:
        case BtfKind.DECL_TAG:
          need(4);
          pos += 4;
          break;
        case BtfKind.ARRAY:
          need(12);
          pos += 12;
          break;
        case BtfKind.STRUCT:
        case BtfKind.UNION: {
          need(12 * vlen);
          const members: BtfMember[] = [];
          for (let i = 0; i < vlen; i++) {
            const off = data.readUInt32LE(pos + 8);
            members.push({
              name: nameAt(data.readUInt32LE(pos)),
              type: data.readUInt32LE(pos + 4),
              bitOffset: kindFlag ? off & 0xffffff : off,
              bitfieldSize: kindFlag ? off >>> 24 : 0,
            });
            pos += 12;
          }
          t.members = members;
          break;
        }
        case BtfKind.ENUM:
          need(8 * vlen);
          pos += 8 * vlen;
          break;
        case BtfKind.FUNC_PROTO:
          need(8 * vlen);
          // A trailing param with name 0 and type 0 marks varargs; it is not a parameter.
          t.paramCount = vlen > 0 && data.readUInt32LE(pos + 8 * (vlen - 1) + 4) === 0 ? vlen - 1 : vlen;
          pos += 8 * vlen;
          break;
        case BtfKind.DATASEC:
        case BtfKind.ENUM64:
          need(12 * vlen);
          pos += 12 * vlen;
          break;
        case BtfKind.PTR:
        case BtfKind.FWD:
        case BtfKind.TYPEDEF:
        case BtfKind.VOLATILE:
        case BtfKind.CONST:
        case BtfKind.RESTRICT:
        case BtfKind.FUNC:
        case BtfKind.FLOAT:
        case BtfKind.TYPE_TAG:
          break;
        default:
          throw new BtfError(`${source}: unknown BTF kind ${kind} for type ${t.id} at offset ${pos - 12}`);
      }
      this.types.push(t);
      if (t.name !== '') {
        const ids = this.byName.get(t.name);
        if (ids) ids.push(t.id);
        else this.byName.set(t.name, [t.id]);
      }
    }
  }

  static fromFile(path = VMLINUX_BTF_PATH): Btf {
    return new Btf(readFileSync(path), path);
  }

  get typeCount(): number {
    return this.types.length - 1;
  }

  type(id: number): BtfType | undefined {
    return this.types[id];
  }

  /** The first type with this name and kind (a name can be both a struct and a typedef). */
  find(name: string, kind: number): BtfType | undefined {
    for (const id of this.byName.get(name) ?? []) {
      const t = this.types[id]!;
      if (t.kind === kind) return t;
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
    let t = this.types[id];
    for (let hops = 0; t && hops < 32; hops++) {
      if (t.kind !== BtfKind.TYPEDEF && t.kind !== BtfKind.VOLATILE && t.kind !== BtfKind.CONST && t.kind !== BtfKind.RESTRICT && t.kind !== BtfKind.TYPE_TAG)
        return t;
      t = this.types[t.sizeOrType];
    }
    return t;
  }

  /** Whether a FUNC with this name exists, and its parameter count (from its FUNC_PROTO). */
  func(name: string): { exists: true; paramCount: number } | { exists: false } {
    const f = this.find(name, BtfKind.FUNC);
    if (!f) return { exists: false };
    const proto = this.types[f.sizeOrType];
    return { exists: true, paramCount: proto?.kind === BtfKind.FUNC_PROTO ? (proto.paramCount ?? 0) : 0 };
  }
}

/** Byte offset of `struct vfsmount mnt` inside `struct mount`: the probes' container_of. */
export function mountMntOffset(btf: Btf): number {
  const off = btf.memberByteOffset('mount', 'mnt');
  if (off === null) throw new BtfError('BTF has no struct mount with a member mnt');
  return off;
}
