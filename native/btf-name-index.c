// Preloaded into bpftrace 0.17 by exetrace, beside wakeup-batching.c.
//
// bpftrace 0.17 turns every struct name its program needs into a BTF type id with libbpf's
// btf__find_by_name(_kind), a linear scan with strcmp over all of vmlinux's ~126,000 types. It
// does so for each name of the type set it regenerates on each of its up to ten rounds of type
// resolution: 13% of its CPU before attaching exetrace's program. This library answers the same
// calls from a hash index built once per BTF object (the first id with that name, and with that
// name and kind, exactly as the scans return them). Calls for other objects, or when the index
// cannot be built, go to libbpf unchanged.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/btf.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct btf;
struct btf_type;

struct slot {
  const char *name; /* points into the BTF object's own strings; NULL: empty */
  int32_t kind;     /* -1: the any-kind entry for the name */
  int32_t id;
};

struct index {
  const struct btf *btf;
  uint32_t types; /* btf__type_cnt when built: a different count means a different object */
  uint32_t mask;
  struct slot *slots;
};

/* bpftrace looks names up in one or two objects (vmlinux, and a module's split BTF at most). */
#define MAX_INDEXES 8
static struct index indexes[MAX_INDEXES];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t (*real_type_cnt)(const struct btf *);
static const struct btf_type *(*real_type_by_id)(const struct btf *, uint32_t);
static const char *(*real_name_by_offset)(const struct btf *, uint32_t);
static int32_t (*real_find_by_name)(const struct btf *, const char *);
static int32_t (*real_find_by_name_kind)(const struct btf *, const char *, uint32_t);
static void (*real_free)(struct btf *);

static int resolve(void) {
  if (real_find_by_name != NULL) return 1;
  real_type_cnt = (uint32_t(*)(const struct btf *))dlsym(RTLD_NEXT, "btf__type_cnt");
  real_type_by_id = (const struct btf_type *(*)(const struct btf *, uint32_t))dlsym(RTLD_NEXT, "btf__type_by_id");
  real_name_by_offset = (const char *(*)(const struct btf *, uint32_t))dlsym(RTLD_NEXT, "btf__name_by_offset");
  real_find_by_name_kind = (int32_t(*)(const struct btf *, const char *, uint32_t))dlsym(RTLD_NEXT, "btf__find_by_name_kind");
  real_free = (void (*)(struct btf *))dlsym(RTLD_NEXT, "btf__free");
  real_find_by_name = (int32_t(*)(const struct btf *, const char *))dlsym(RTLD_NEXT, "btf__find_by_name");
  return real_find_by_name != NULL;
}

static uint32_t hash(const char *s, int32_t kind) {
  uint32_t h = 2166136261u ^ (uint32_t)kind;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static struct slot *find_slot(const struct index *ix, const char *name, int32_t kind) {
  for (uint32_t i = hash(name, kind) & ix->mask;; i = (i + 1) & ix->mask) {
    struct slot *s = &ix->slots[i];
    if (s->name == NULL || (s->kind == kind && strcmp(s->name, name) == 0)) return s;
  }
}

/* Keeps the first id per key, as the scans (ascending ids) find it. */
static void insert(struct index *ix, const char *name, int32_t kind, int32_t id) {
  struct slot *s = find_slot(ix, name, kind);
  if (s->name == NULL) *s = (struct slot){.name = name, .kind = kind, .id = id};
}

/* With the lock held. NULL when the real functions are missing or memory is short. */
static struct index *index_of(const struct btf *btf) {
  if (real_type_cnt == NULL || real_type_by_id == NULL || real_name_by_offset == NULL) return NULL;
  uint32_t types = real_type_cnt(btf);
  struct index *spare = NULL;
  for (int i = 0; i < MAX_INDEXES; i++) {
    if (indexes[i].btf == btf && indexes[i].types == types) return &indexes[i];
    if (indexes[i].btf == btf || (spare == NULL && indexes[i].btf == NULL)) spare = &indexes[i];
  }
  if (spare == NULL) return NULL;
  free(spare->slots);
  *spare = (struct index){0};
  uint32_t size = 1024;
  while (size < 4u * types) size <<= 1; /* two keys per type at most, load below one half */
  struct slot *slots = calloc(size, sizeof(struct slot));
  if (slots == NULL) return NULL;
  *spare = (struct index){.btf = btf, .types = types, .mask = size - 1, .slots = slots};
  for (uint32_t id = 1; id < types; id++) {
    const struct btf_type *t = real_type_by_id(btf, id);
    if (t == NULL) continue;
    uint32_t name_off = ((const uint32_t *)t)[0], info = ((const uint32_t *)t)[1];
    const char *name = real_name_by_offset(btf, name_off);
    if (name == NULL) continue;
    insert(spare, name, -1, (int32_t)id);
    insert(spare, name, (int32_t)BTF_INFO_KIND(info), (int32_t)id);
  }
  return spare;
}

static int32_t lookup(const struct btf *btf, const char *name, int32_t kind, int *answered) {
  pthread_mutex_lock(&lock);
  struct index *ix = index_of(btf);
  int32_t id = -ENOENT;
  if (ix != NULL) {
    struct slot *s = find_slot(ix, name, kind);
    if (s->name != NULL) id = s->id;
    *answered = 1;
  }
  pthread_mutex_unlock(&lock);
  return id;
}

int32_t btf__find_by_name(const struct btf *btf, const char *name) {
  if (!resolve()) return -ENOENT;
  if (btf == NULL || name == NULL) return real_find_by_name(btf, name);
  if (strcmp(name, "void") == 0) return 0;
  int answered = 0;
  int32_t id = lookup(btf, name, -1, &answered);
  if (!answered) return real_find_by_name(btf, name);
  if (id < 0) errno = ENOENT;
  return id;
}

int32_t btf__find_by_name_kind(const struct btf *btf, const char *name, uint32_t kind) {
  if (!resolve() || real_find_by_name_kind == NULL) return -ENOENT;
  if (btf == NULL || name == NULL) return real_find_by_name_kind(btf, name, kind);
  if (kind == BTF_KIND_UNKN || strcmp(name, "void") == 0) return 0;
  int answered = 0;
  int32_t id = lookup(btf, name, (int32_t)kind, &answered);
  if (!answered) return real_find_by_name_kind(btf, name, kind);
  if (id < 0) errno = ENOENT;
  return id;
}

/* A freed object's address may be reused by the next one: forget its index. */
void btf__free(struct btf *btf) {
  if (!resolve() || real_free == NULL) return;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < MAX_INDEXES; i++)
    if (btf != NULL && indexes[i].btf == btf) {
      free(indexes[i].slots);
      indexes[i] = (struct index){0};
    }
  pthread_mutex_unlock(&lock);
  real_free(btf);
}
