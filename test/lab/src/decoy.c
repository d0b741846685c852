/*
 * decoy-mapping: map another file PROT_READ|PROT_EXEC at a fixed low address, below the
 * executable's own text, so the VMA walk (first file-backed executable mapping) names it.
 * usage: decoy DECOY_FILE [ADDR_HEX]
 */
#include "lab.h"
#include <fcntl.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

int main(int argc, char **argv) {
  lab_arm_timeout();
  if (argc < 2) { fprintf(stderr, "usage: decoy DECOY_FILE [ADDR_HEX]\n"); return 64; }
  unsigned long addr = argc >= 3 ? strtoul(argv[2], NULL, 16) : 0x10000;
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0) lab_die("open decoy");
  /* NOREPLACE: never clobber something that happens to live there. */
  void *p = mmap((void *)addr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
  if (p == MAP_FAILED) lab_die("mmap decoy");
  if ((unsigned long)p != addr) { errno = EEXIST; lab_die("mmap decoy landed elsewhere"); }
  close(fd);
  lab_fact("decoy_addr", "%lx", addr);
  lab_ready_and_wait();
  return 0;
}
