// When bpftrace gets native/btf-name-index.c preloaded, and that the library answers libbpf's
// name lookups exactly as libbpf does: a small C program looks names up in this kernel's BTF
// both through the preloaded index and through libbpf itself (skipped where there is no libbpf
// or no BTF; the load checks are real).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BTF_INDEX_LIBRARY, btfIndexLibrary } from '../../src/trace/btf-name-index.js';
import { packageRoot } from '../../src/trace/probe-program.js';

const V017 = { major: 0, minor: 17, patch: 0 };
const built = join(packageRoot(), BTF_INDEX_LIBRARY);

// Every 97th type's name, by itself and with its own and another kind, plus names that are
// special or absent; libbpf's own functions are reached through dlopen, past the preload.
const COMPARE_C = String.raw`
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
struct btf;
struct btf_type { uint32_t name_off, info, size; };
struct btf *btf__load_vmlinux_btf(void);
uint32_t btf__type_cnt(const struct btf *);
const struct btf_type *btf__type_by_id(const struct btf *, uint32_t);
const char *btf__name_by_offset(const struct btf *, uint32_t);
int32_t btf__find_by_name(const struct btf *, const char *);
int32_t btf__find_by_name_kind(const struct btf *, const char *, uint32_t);
static int32_t (*real_n)(const struct btf *, const char *);
static int32_t (*real_k)(const struct btf *, const char *, uint32_t);
static long checked, bad;
static void check(const struct btf *b, const char *name, uint32_t kind) {
  errno = 0; int32_t a = btf__find_by_name(b, name); int ea = errno;
  errno = 0; int32_t r = real_n(b, name); int er = errno;
  int32_t ak = btf__find_by_name_kind(b, name, kind), rk = real_k(b, name, kind);
  checked++;
  if (a != r || ak != rk || (r < 0 && ea != er)) { bad++; printf("'%s' kind %u: %d/%d %d/%d\n", name, kind, a, r, ak, rk); }
}
int main(void) {
  void *h = dlopen("libbpf.so.1", RTLD_NOW | RTLD_NOLOAD);
  real_n = (int32_t (*)(const struct btf *, const char *))dlsym(h, "btf__find_by_name");
  real_k = (int32_t (*)(const struct btf *, const char *, uint32_t))dlsym(h, "btf__find_by_name_kind");
  struct btf *b = btf__load_vmlinux_btf();
  if (b == NULL || real_n == NULL || real_k == NULL) return 2;
  uint32_t n = btf__type_cnt(b);
  for (uint32_t id = 1; id < n; id += 97) {
    const struct btf_type *t = btf__type_by_id(b, id);
    const char *name = btf__name_by_offset(b, t->name_off);
    uint32_t kind = (t->info >> 24) & 0x1f;
    check(b, name, kind);
    check(b, name, kind % 19 + 1);
  }
  const char *odd[] = { "void", "", "task_struct", "mount", "int", "exetrace_no_such_type" };
  for (int i = 0; i < 6; i++) for (uint32_t k = 0; k < 5; k++) check(b, odd[i], k);
  printf("checked %ld mismatched %ld\n", checked, bad);
  return bad != 0;
}
`;

describe('btfIndexLibrary', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'exetrace-btf-index-'));
    mkdirSync(join(root, 'dist', 'native'), { recursive: true });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is built by npm run build (this machine has a C compiler)', () => {
    expect(existsSync(built)).toBe(true);
  });

  it('is preloaded into bpftrace 0.17 when it loads; not when switched off, for another bpftrace, missing or unloadable', () => {
    const lib = join(root, BTF_INDEX_LIBRARY);
    copyFileSync(built, lib);
    expect(btfIndexLibrary(V017, {}, root)).toBe(lib);
    expect(btfIndexLibrary(V017, { EXETRACE_BTF_INDEX: '0' }, root)).toBeNull();
    for (const v of [{ major: 0, minor: 23, patch: 2 }, null]) expect(btfIndexLibrary(v, {}, root)).toBeNull();
    writeFileSync(lib, 'not an ELF object\n');
    expect(btfIndexLibrary(V017, {}, root)).toBeNull();
    rmSync(lib);
    expect(btfIndexLibrary(V017, {}, root)).toBeNull();
  });

  const cc = process.env.CC ?? 'cc';
  const haveLibbpf = spawnSync('sh', ['-c', 'ldconfig -p | grep -q "libbpf.so.1 "']).status === 0;
  it.skipIf(!haveLibbpf || !existsSync('/sys/kernel/btf/vmlinux'))("answers btf__find_by_name(_kind) exactly as libbpf's scans do", () => {
    const src = join(root, 'compare.c');
    const exe = join(root, 'compare');
    writeFileSync(src, COMPARE_C);
    const build = spawnSync(cc, ['-O2', '-o', exe, src, '-l:libbpf.so.1', '-ldl'], { encoding: 'utf8' });
    expect(build.stderr).toBe('');
    const run = spawnSync(exe, [], { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: built }, timeout: 60_000 });
    expect(run.stdout).toMatch(/checked \d+ mismatched 0/);
    expect(run.status).toBe(0);
  });
});
