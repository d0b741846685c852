/*
 * Exec a program through a file descriptor, asking for a chosen argv[0]:
 *   execat empty-path ELF ARGV0  open(ELF, O_PATH) + execveat(fd, "", AT_EMPTY_PATH)
 *   execat fexecve ELF ARGV0     open(ELF, O_RDONLY) + glibc fexecve(fd)
 * The kernel names the exec "/dev/fd/N" in both (bprm->filename); exe_file is ELF. The pid stays.
 */
#include "lab.h"
#include <fcntl.h>
#include <sys/syscall.h>

extern char **environ;

int main(int argc, char **argv) {
  lab_arm_timeout();
  if (argc != 4) { fprintf(stderr, "usage: execat empty-path|fexecve ELF ARGV0\n"); return 64; }
  char *args[] = {argv[3], NULL};
  if (strcmp(argv[1], "empty-path") == 0) {
    int fd = open(argv[2], O_PATH);
    if (fd < 0) lab_die("open O_PATH");
    lab_fact("fd", "%d", fd);
    syscall(SYS_execveat, fd, "", args, environ, AT_EMPTY_PATH);
    lab_die("execveat");
  }
  if (strcmp(argv[1], "fexecve") == 0) {
    int fd = open(argv[2], O_RDONLY);
    if (fd < 0) lab_die("open");
    lab_fact("fd", "%d", fd);
    fexecve(fd, args, environ);
    lab_die("fexecve");
  }
  fprintf(stderr, "execat: unknown mode %s\n", argv[1]);
  return 64;
}
