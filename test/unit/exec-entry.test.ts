// exec's point-of-no-return function from BTF, else kallsyms; never from the version number.
import { describe, expect, it } from 'vitest';
import { Btf } from '../../src/kernel/btf.js';
import { detectExecEntry } from '../../src/kernel/exec-entry.js';

/** A BTF blob with `int` and one `int NAME(int)` function per name. */
function btfWithFunctions(names: string[]): Btf {
  const strs = ['', 'int', ...names];
  const strOff = new Map<string, number>();
  let off = 0;
  for (const s of strs) {
    strOff.set(s, off);
    off += Buffer.byteLength(s) + 1;
  }
  const strings = Buffer.concat(strs.map((s) => Buffer.from(`${s}\0`)));
  const u32 = (...v: number[]) => Buffer.concat(v.map((x) => Buffer.from(new Uint32Array([x]).buffer)));
  const kind = (k: number, vlen = 0) => (k << 24) | vlen;
  const types: Buffer[] = [u32(strOff.get('int')!, kind(1), 4, 32)]; // 1: int
  for (const [i, n] of names.entries()) {
    const proto = 2 + 2 * i;
    types.push(u32(0, kind(13, 1), 1, 0, 1)); // FUNC_PROTO int (int)
    types.push(u32(strOff.get(n)!, kind(12), proto)); // FUNC
  }
  const typeBuf = Buffer.concat(types);
  const header = Buffer.alloc(24);
  header.writeUInt16LE(0xeb9f, 0);
  header.writeUInt8(1, 2);
  header.writeUInt32LE(24, 4);
  header.writeUInt32LE(0, 8);
  header.writeUInt32LE(typeBuf.length, 12);
  header.writeUInt32LE(typeBuf.length, 16);
  header.writeUInt32LE(strings.length, 20);
  return new Btf(Buffer.concat([header, typeBuf, strings]), 'synthetic');
}

describe('exec entry function', () => {
  it('is begin_new_exec where BTF has it (5.8+), flush_old_exec where only that exists', () => {
    expect(detectExecEntry(btfWithFunctions(['mmput', 'begin_new_exec']), '')).toEqual({ ok: true, fn: 'begin_new_exec', source: 'btf' });
    expect(detectExecEntry(btfWithFunctions(['mmput', 'flush_old_exec']), '')).toEqual({ ok: true, fn: 'flush_old_exec', source: 'btf' });
  });

  it('falls back to kallsyms text symbols when BTF has neither or is missing', () => {
    const kallsyms = 'ffffffff81234560 T setup_new_exec\nffffffff81234000 T flush_old_exec\nffffffff81235000 d flush_old_exec_data\n';
    expect(detectExecEntry(btfWithFunctions(['mmput']), kallsyms)).toEqual({ ok: true, fn: 'flush_old_exec', source: 'kallsyms' });
    // Addresses hidden (non-root kptr_restrict) still name the symbols.
    expect(detectExecEntry(null, '0000000000000000 t begin_new_exec\n')).toEqual({ ok: true, fn: 'begin_new_exec', source: 'kallsyms' });
    // A data symbol of that name is not the function.
    expect(detectExecEntry(null, '0000000000000000 D begin_new_exec\n')).toMatchObject({ ok: false });
  });

  it('says so when neither exists', () => {
    const r = detectExecEntry(btfWithFunctions(['mmput']), 'ffffffff81000000 T _stext\n');
    expect(r).toEqual({ ok: false, reason: 'neither begin_new_exec nor flush_old_exec in BTF or /proc/kallsyms' });
  });

  it('reads this host (6.18): begin_new_exec from BTF', () => {
    expect(detectExecEntry(Btf.fromFile())).toEqual({ ok: true, fn: 'begin_new_exec', source: 'btf' });
  });
});
