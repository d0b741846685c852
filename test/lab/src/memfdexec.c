/*
 * exe-memfd: copy an ELF into a memfd and fexecve it; the exe link becomes
 * "/memfd:NAME (deleted)" on the internal shm mount. The pid stays the same across the exec.
 * usage: memfdexec ELF NAME [ARGS...]
 */
#include "lab.h"

extern char **environ;

int main(int argc, char **argv) {
  lab_arm_timeout();
  if (argc < 3) { fprintf(stderr, "usage: memfdexec ELF NAME [ARGS...]\n"); return 64; }
  /* Not MFD_CLOEXEC: fexecve of a close-on-exec memfd works for ELF, but keep it simple. */
  int mfd = lab_copy_to_memfd(argv[1], argv[2], 0);
  lab_fact_identity("memfd", mfd);
  char *args[] = {argv[2], NULL};
  char **use = argc > 3 ? &argv[2] : args;
  fexecve(mfd, use, environ);
  lab_die("fexecve");
  return 1;
}
