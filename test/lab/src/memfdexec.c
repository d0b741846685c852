/*
 * exe-memfd: copy an ELF into a memfd and fexecve it; the exe link becomes
 * "/memfd:NAME (deleted)" on the internal shm mount. The pid stays the same across the exec.
 * usage: memfdexec ELF NAME [ARGS...]
 */
#include "lab.h"
#include <fcntl.h>
#include <sys/sendfile.h>

extern char **environ;

int main(int argc, char **argv) {
  lab_arm_timeout();
  if (argc < 3) { fprintf(stderr, "usage: memfdexec ELF NAME [ARGS...]\n"); return 64; }
  int src = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (src < 0) lab_die("open elf");
  struct stat st;
  if (fstat(src, &st) != 0) lab_die("fstat elf");
  /* Not MFD_CLOEXEC: fexecve of a close-on-exec memfd works for ELF, but keep it simple. */
  int mfd = memfd_create(argv[2], 0);
  if (mfd < 0) lab_die("memfd_create");
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
    if (n <= 0) lab_die("sendfile");
  }
  close(src);
  struct stat mst;
  if (fstat(mfd, &mst) != 0) lab_die("fstat memfd");
  lab_fact("memfd", "%lu %lu", (unsigned long)mst.st_dev, (unsigned long)mst.st_ino);
  char *args[] = {argv[2], NULL};
  char **use = argc > 3 ? &argv[2] : args;
  fexecve(mfd, use, environ);
  lab_die("fexecve");
  return 1;
}
