import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { Btf, BtfError, VMLINUX_BTF_PATH, mountMntOffset } from '../../src/kernel/btf.js';

describe.skipIf(!existsSync(VMLINUX_BTF_PATH))('BTF of the running kernel', () => {
  const btf = Btf.fromFile();

  it('parses every type', () => {
    expect(btf.typeCount).toBeGreaterThan(10_000);
  });

  it('finds struct mount.mnt (what the probes use to cross mounts)', () => {
    const off = mountMntOffset(btf);
    // mnt follows mnt_hash (hlist_node, 16 bytes), mnt_parent and mnt_mountpoint (8 each).
    expect(off).toBe(btf.memberByteOffset('mount', 'mnt_mountpoint')! + 8);
    expect(btf.memberByteOffset('mount', 'mnt_parent')).toBe(16);
  });

  it('agrees with the fixed uapi layout of struct prctl_mm_map (exe_fd at byte 100)', () => {
    expect(btf.memberByteOffset('prctl_mm_map', 'exe_fd')).toBe(100);
    expect(btf.memberByteOffset('prctl_mm_map', 'start_code')).toBe(0);
  });

  it('looks through anonymous members', () => {
    // task_struct's members include anonymous unions/structs; `pid` must still resolve.
    expect(btf.memberByteOffset('task_struct', 'pid')).toBeGreaterThan(0);
  });

  it('reports functions and their parameter counts', () => {
    expect(btf.func('begin_new_exec')).toEqual({ exists: true, paramCount: 1 });
    expect(btf.func('proc_exe_link')).toMatchObject({ exists: true });
    expect(btf.func('exetrace_no_such_function_xyz')).toEqual({ exists: false });
    expect(btf.memberBitOffset('exetrace_no_such_struct', 'x')).toBeNull();
    expect(btf.memberBitOffset('mount', 'exetrace_no_such_member')).toBeNull();
  });
});

describe('BTF parser on bad input', () => {
  it('rejects short data, bad magic and truncated sections with a cause', () => {
    expect(() => new Btf(Buffer.alloc(4), 'x')).toThrow(BtfError);
    const bad = Buffer.alloc(24);
    bad.writeUInt16LE(0x1234, 0);
    expect(() => new Btf(bad, 'x')).toThrow(/bad magic/);
    const hdr = Buffer.alloc(24);
    hdr.writeUInt16LE(0xeb9f, 0);
    hdr.writeUInt32LE(24, 4);
    hdr.writeUInt32LE(1000, 12); // type_len past the end
    expect(() => new Btf(hdr, 'x')).toThrow(/past the end/);
  });

  it('rejects a type cut in the middle', () => {
    if (!existsSync(VMLINUX_BTF_PATH)) return;
    const data = Buffer.from(readFileSync(VMLINUX_BTF_PATH));
    const hdrLen = data.readUInt32LE(4);
    data.writeUInt32LE(30, 12); // type section ends inside the second type
    expect(() => new Btf(data.subarray(0, data.length), 'cut')).toThrow(/truncated/);
    void hdrLen;
  });
});
