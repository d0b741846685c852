// Preloaded into bpftrace 0.17 by exetrace, beside btf-name-index.c.
//
// bpftrace 0.17 parses the C definitions it generates from BTF with libclang 14 times for
// exetrace's program, each parse in a fresh index that it disposes right after, and the last
// five or six of them on byte-identical input (the type set stopped growing): about 0.15 s of
// CPU before the probes attach. This library keeps the last parse and hands the same
// translation unit back when the next parse has exactly the same file name, arguments, unsaved
// files and options, and the kept unit has no diagnostics (so nothing libclang would print or
// bpftrace would read differs). A unit is really disposed, with its index, only once bpftrace
// has released every copy it was handed and a different parse has replaced it.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

typedef void *CXIndex;
typedef struct CXTranslationUnitImpl *CXTranslationUnit;
struct CXUnsavedFile {
  const char *Filename;
  const char *Contents;
  unsigned long Length;
};

typedef int (*parse_fn)(CXIndex, const char *, const char *const *, int, struct CXUnsavedFile *, unsigned, unsigned, CXTranslationUnit *);
static parse_fn real_parse;
static void (*real_dispose_tu)(CXTranslationUnit);
static void (*real_dispose_index)(CXIndex);
static unsigned (*real_num_diagnostics)(CXTranslationUnit);

struct unit {
  CXTranslationUnit tu; /* NULL: free slot */
  CXIndex index;        /* the index it was parsed in */
  int refs;             /* copies handed to bpftrace and not disposed by it yet */
  int index_released;   /* bpftrace disposed the index: dispose it together with the unit */
  int current;          /* the latest parse: an identical next parse may reuse it */
  uint64_t key;
};

#define SLOTS 16
static struct unit units[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int resolve(void) {
  if (real_parse != NULL) return 1;
  real_dispose_tu = (void (*)(CXTranslationUnit))dlsym(RTLD_NEXT, "clang_disposeTranslationUnit");
  real_dispose_index = (void (*)(CXIndex))dlsym(RTLD_NEXT, "clang_disposeIndex");
  real_num_diagnostics = (unsigned (*)(CXTranslationUnit))dlsym(RTLD_NEXT, "clang_getNumDiagnostics");
  real_parse = (parse_fn)dlsym(RTLD_NEXT, "clang_parseTranslationUnit2");
  return real_parse != NULL;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * 1099511628211ull;
  return h;
}

/* Everything the parse depends on; lengths are hashed too, so no two inputs run together. */
static uint64_t key_of(const char *src, const char *const *args, int nargs, const struct CXUnsavedFile *files, unsigned nfiles, unsigned options) {
  uint64_t h = fnv(1469598103934665603ull, src != NULL ? src : "", src != NULL ? strlen(src) + 1 : 1);
  h = fnv(h, &nargs, sizeof nargs);
  for (int i = 0; i < nargs; i++) h = fnv(h, args[i], strlen(args[i]) + 1);
  h = fnv(h, &nfiles, sizeof nfiles);
  for (unsigned i = 0; i < nfiles; i++) {
    h = fnv(h, files[i].Filename, strlen(files[i].Filename) + 1);
    h = fnv(h, &files[i].Length, sizeof files[i].Length);
    h = fnv(h, files[i].Contents, files[i].Length);
  }
  return fnv(h, &options, sizeof options);
}

/* With the lock held: dispose a unit nobody holds and nobody may reuse. Its index goes with it
 * once bpftrace released that too, unless another live unit came from the same index. */
static void release_if_unused(struct unit *u) {
  if (u->tu == NULL || u->refs > 0 || u->current) return;
  real_dispose_tu(u->tu);
  if (u->index_released) {
    struct unit *heir = NULL;
    for (int i = 0; i < SLOTS && heir == NULL; i++)
      if (&units[i] != u && units[i].tu != NULL && units[i].index == u->index) heir = &units[i];
    if (heir != NULL)
      heir->index_released = 1;
    else
      real_dispose_index(u->index);
  }
  memset(u, 0, sizeof *u);
}

int clang_parseTranslationUnit2(CXIndex index, const char *src, const char *const *args, int nargs, struct CXUnsavedFile *files, unsigned nfiles,
                                unsigned options, CXTranslationUnit *out) {
  if (!resolve()) return 1; /* CXError_Failure */
  if (real_dispose_tu == NULL || real_dispose_index == NULL || real_num_diagnostics == NULL || out == NULL || (nargs > 0 && args == NULL) ||
      (nfiles > 0 && files == NULL))
    return real_parse(index, src, args, nargs, files, nfiles, options, out);
  uint64_t key = key_of(src, args, nargs, files, nfiles, options);
  pthread_mutex_lock(&lock);
  for (int i = 0; i < SLOTS; i++) {
    struct unit *u = &units[i];
    if (u->tu != NULL && u->current && u->key == key && real_num_diagnostics(u->tu) == 0) {
      u->refs++;
      *out = u->tu;
      pthread_mutex_unlock(&lock);
      return 0; /* CXError_Success */
    }
  }
  pthread_mutex_unlock(&lock);
  int r = real_parse(index, src, args, nargs, files, nfiles, options, out);
  if (r != 0 || *out == NULL) return r;
  pthread_mutex_lock(&lock);
  struct unit *slot = NULL;
  for (int i = 0; i < SLOTS && slot == NULL; i++)
    if (units[i].tu == NULL) slot = &units[i];
  if (slot != NULL) { /* no free slot: the unit stays untracked and is disposed as usual */
    for (int i = 0; i < SLOTS; i++)
      if (units[i].current) {
        units[i].current = 0;
        release_if_unused(&units[i]);
      }
    *slot = (struct unit){.tu = *out, .index = index, .refs = 1, .current = 1, .key = key};
  }
  pthread_mutex_unlock(&lock);
  return r;
}

void clang_disposeTranslationUnit(CXTranslationUnit tu) {
  if (!resolve() || real_dispose_tu == NULL) return;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < SLOTS; i++)
    if (tu != NULL && units[i].tu == tu) {
      if (units[i].refs > 0) units[i].refs--;
      release_if_unused(&units[i]);
      pthread_mutex_unlock(&lock);
      return;
    }
  pthread_mutex_unlock(&lock);
  real_dispose_tu(tu);
}

/* An index must outlive its units (libclang's rule): a kept unit's index waits for it. */
void clang_disposeIndex(CXIndex index) {
  if (!resolve() || real_dispose_index == NULL) return;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < SLOTS; i++)
    if (index != NULL && units[i].tu != NULL && units[i].index == index) {
      units[i].index_released = 1;
      pthread_mutex_unlock(&lock);
      return;
    }
  pthread_mutex_unlock(&lock);
  real_dispose_index(index);
}
