// When bpftrace gets the compile preloads (native/btf-name-index.c, native/clang-parse-reuse.c),
// and that they answer exactly as the libraries they stand in front of: small C programs look
// names up in this kernel's BTF through the index and through libbpf itself, and parse with
// libclang through the reuse (skipped where libbpf, BTF or libclang is missing; the load checks
// are real).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPILE_PRELOADS, compilePreloads } from '../../src/trace/compile-preloads.js';
import { packageRoot } from '../../src/trace/probe-program.js';
import { tempPackageRoot } from './fixtures/package-root.fixture.js';

const V017 = { major: 0, minor: 17, patch: 0 };
const [INDEX, REUSE] = COMPILE_PRELOADS.map((p) => p.library) as [string, string];
const builtIndex = join(packageRoot(), INDEX);
const builtReuse = join(packageRoot(), REUSE);

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

// Parses as bpftrace does (a fresh index per parse, disposed right after); an identical input
// gets the kept unit back, a different one or one with diagnostics is parsed anew, and what the
// units hold (the struct names) is what the input says.
const REUSE_C = String.raw`
#include <stdio.h>
#include <string.h>
typedef void *CXIndex;
typedef struct CXTranslationUnitImpl *CXTranslationUnit;
struct CXUnsavedFile { const char *Filename; const char *Contents; unsigned long Length; };
typedef struct { int kind; int xdata; const void *data[3]; } CXCursor;
typedef struct { const void *data; unsigned private_flags; } CXString;
CXIndex clang_createIndex(int, int);
void clang_disposeIndex(CXIndex);
int clang_parseTranslationUnit2(CXIndex, const char *, const char *const *, int, struct CXUnsavedFile *, unsigned, unsigned, CXTranslationUnit *);
void clang_disposeTranslationUnit(CXTranslationUnit);
unsigned clang_getNumDiagnostics(CXTranslationUnit);
CXCursor clang_getTranslationUnitCursor(CXTranslationUnit);
unsigned clang_visitChildren(CXCursor, int (*)(CXCursor, CXCursor, void *), void *);
CXString clang_getCursorSpelling(CXCursor);
const char *clang_getCString(CXString);
void clang_disposeString(CXString);
static int add(CXCursor c, CXCursor p, void *out) {
  (void)p;
  CXString s = clang_getCursorSpelling(c);
  strcat((char *)out, clang_getCString(s));
  strcat((char *)out, ";");
  clang_disposeString(s);
  return 1;
}
struct parsed { CXIndex index; CXTranslationUnit tu; char names[256]; };
static struct parsed parse(const char *text) {
  struct parsed r = { clang_createIndex(1, 0), NULL, "" };
  const char *args[] = { "-x", "c" };
  struct CXUnsavedFile f = { "defs.h", text, strlen(text) };
  if (clang_parseTranslationUnit2(r.index, "defs.h", args, 2, &f, 1, 0, &r.tu) != 0) return r;
  clang_visitChildren(clang_getTranslationUnitCursor(r.tu), add, r.names);
  return r;
}
static void done(struct parsed *p) { clang_disposeTranslationUnit(p->tu); clang_disposeIndex(p->index); }
int main(void) {
  const char *a = "struct a { int x; }; struct b { struct a *p; };";
  struct parsed p1 = parse(a);
  struct parsed p2 = parse(a);
  int ok = p1.tu != NULL && p2.tu == p1.tu && strcmp(p1.names, "a;b;") == 0 && strcmp(p2.names, "a;b;") == 0;
  done(&p2);
  struct parsed p3 = parse(a);
  ok = ok && p3.tu == p1.tu;
  done(&p1);
  done(&p3);
  struct parsed p4 = parse("struct c { int y; };");
  ok = ok && p4.tu != NULL && strcmp(p4.names, "c;") == 0;
  struct parsed p5 = parse("struct c { int y; };");
  ok = ok && p5.tu == p4.tu;
  clang_disposeIndex(p4.index);
  clang_disposeIndex(p5.index);
  clang_disposeTranslationUnit(p4.tu);
  clang_disposeTranslationUnit(p5.tu);
  struct parsed p6 = parse("struct d { unknown_t z; };");
  struct parsed p7 = parse("struct d { unknown_t z; };");
  ok = ok && p6.tu != NULL && clang_getNumDiagnostics(p6.tu) > 0 && p7.tu != p6.tu && clang_getNumDiagnostics(p7.tu) == clang_getNumDiagnostics(p6.tu);
  done(&p6);
  done(&p7);
  struct parsed p8 = parse(a);
  ok = ok && strcmp(p8.names, "a;b;") == 0;
  done(&p8);
  printf("%s\n", ok ? "reuse ok" : "reuse wrong");
  return !ok;
}
`;

describe('compilePreloads', () => {
  const root = tempPackageRoot('exetrace-compile-preloads-');

  it('are built by npm run build (this machine has a C compiler)', () => {
    expect(existsSync(builtIndex)).toBe(true);
    expect(existsSync(builtReuse)).toBe(true);
  });

  it('are preloaded into bpftrace 0.17 when they load; each not when switched off, missing or unloadable; none for another bpftrace', () => {
    const index = join(root(), INDEX);
    const reuse = join(root(), REUSE);
    copyFileSync(builtIndex, index);
    copyFileSync(builtReuse, reuse);
    expect(compilePreloads(V017, {}, root())).toEqual([index, reuse]);
    expect(compilePreloads(V017, { EXETRACE_BTF_INDEX: '0' }, root())).toEqual([reuse]);
    expect(compilePreloads(V017, { EXETRACE_PARSE_REUSE: '0' }, root())).toEqual([index]);
    for (const v of [{ major: 0, minor: 23, patch: 2 }, null]) expect(compilePreloads(v, {}, root())).toEqual([]);
    writeFileSync(index, 'not an ELF object\n');
    expect(compilePreloads(V017, {}, root())).toEqual([reuse]);
    rmSync(reuse);
    expect(compilePreloads(V017, {}, root())).toEqual([]);
  });

  const cc = process.env.CC ?? 'cc';
  const haveLibbpf = spawnSync('sh', ['-c', 'ldconfig -p | grep -q "libbpf.so.1 "']).status === 0;
  it.skipIf(!haveLibbpf || !existsSync('/sys/kernel/btf/vmlinux'))("answers btf__find_by_name(_kind) exactly as libbpf's scans do", () => {
    const src = join(root(), 'compare.c');
    const exe = join(root(), 'compare');
    writeFileSync(src, COMPARE_C);
    const build = spawnSync(cc, ['-O2', '-o', exe, src, '-l:libbpf.so.1', '-ldl'], { encoding: 'utf8' });
    expect(build.stderr).toBe('');
    const run = spawnSync(exe, [], { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: builtIndex }, timeout: 60_000 });
    expect(run.stdout).toMatch(/checked \d+ mismatched 0/);
    expect(run.status).toBe(0);
  });

  const libclang = '/usr/lib/x86_64-linux-gnu/libclang-14.so.1';
  it.skipIf(!existsSync(libclang))('reuses a libclang parse only for identical input without diagnostics, and disposes safely', () => {
    const src = join(root(), 'reuse.c');
    const exe = join(root(), 'reuse');
    writeFileSync(src, REUSE_C);
    const build = spawnSync(cc, ['-O2', '-o', exe, src, libclang], { encoding: 'utf8' });
    expect(build.stderr).toBe('');
    const run = spawnSync(exe, [], { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: builtReuse }, timeout: 60_000 });
    expect(run.stdout.trim()).toBe('reuse ok');
    expect(run.status).toBe(0);
  });
});
