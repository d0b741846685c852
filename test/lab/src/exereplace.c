/*
 * exe-replaced: replace mm->exe_file without exec, as checkpoint/restore does.
 * 1. prctl(PR_SET_MM, PR_SET_MM_MAP) with exe_fd while our file is still mapped: expect EBUSY.
 * 2. Replace every mapping of our own file with an anonymous copy.
 * 3. The same call again: /proc/self/exe now names NEW_EXE.
 * PR_SET_MM_MAP writes every field back into the mm, so the struct carries the current values
 * (from /proc/self/stat and brk(0)); anything else is EINVAL or corrupts the mm.
 * usage: exereplace NEW_EXE
 */
#include "lab.h"
#include <fcntl.h>
#include <linux/prctl.h>
#include <sys/prctl.h>

static void fill_map(struct prctl_mm_map *m) {
  FILE *f = fopen("/proc/self/stat", "r");
  if (!f) lab_die("open stat");
  char buf[4096];
  size_t len = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[len] = 0;
  /* comm may contain spaces and ')': fields start after the last ')'. Field 3 is state. */
  char *p = strrchr(buf, ')');
  if (!p) { errno = EINVAL; lab_die("parse stat"); }
  p += 2;
  unsigned long long field[64] = {0};
  int idx = 3;
  char *save = NULL;
  for (char *tok = strtok_r(p, " \n", &save); tok && idx < 64; tok = strtok_r(NULL, " \n", &save), idx++)
    field[idx] = strtoull(tok, NULL, 10);
  memset(m, 0, sizeof *m);
  m->start_code = field[26];
  m->end_code = field[27];
  m->start_stack = field[28];
  m->start_data = field[45];
  m->end_data = field[46];
  m->start_brk = field[47];
  m->arg_start = field[48];
  m->arg_end = field[49];
  m->env_start = field[50];
  m->env_end = field[51];
  m->brk = (unsigned long)syscall(SYS_brk, 0);
  m->auxv = NULL; /* auxv_size 0: leave mm->saved_auxv untouched */
  m->auxv_size = 0;
}

static void try_set(const char *label, int exe_fd) {
  struct prctl_mm_map m;
  fill_map(&m);
  m.exe_fd = (unsigned)exe_fd;
  errno = 0;
  int ret = prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&m, sizeof m, 0);
  lab_fact(label, "ret=%d errno=%d %s", ret, ret ? errno : 0, ret ? strerror(errno) : "OK");
}

int main(int argc, char **argv) {
  lab_arm_timeout();
  if (argc < 2) { fprintf(stderr, "usage: exereplace NEW_EXE\n"); return 64; }
  unsigned int size = 0;
  if (prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, (unsigned long)&size, 0, 0) != 0) lab_die("PR_SET_MM_MAP_SIZE");
  lab_fact("map_size", "kernel=%u ours=%zu", size, sizeof(struct prctl_mm_map));
  if (size != sizeof(struct prctl_mm_map)) { errno = EINVAL; lab_die("struct prctl_mm_map size differs"); }

  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0) lab_die("open new exe");

  try_set("prctl_mapped", fd);

  static struct lab_range r[32];
  int n = lab_exe_ranges(r, 32, 0);
  lab_replace_with_anon_copy(r, n);
  static struct lab_range left[32];
  lab_fact("exe_ranges_replaced", "%d", n);
  lab_fact("exe_ranges_remaining", "%d", lab_exe_ranges(left, 32, 0));

  try_set("prctl_unmapped", fd);
  close(fd);

  char link[4096];
  ssize_t l = readlink("/proc/self/exe", link, sizeof link - 1);
  link[l > 0 ? l : 0] = 0;
  lab_fact("exe_after", "%s", link);
  lab_ready_and_wait();
  return 0;
}
