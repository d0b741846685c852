/*
 * A container runtime's self-protection (runc >= 1.1.15, CVE-2019-5736): copy /proc/self/exe
 * into a sealed memfd named "runc_cloned:/proc/self/exe" and re-exec from it, so the binary on
 * disk is never the running image. The clone (marked by an environment variable) announces and
 * waits. The pid stays the same across the exec.
 */
#define _GNU_SOURCE
#include "lab.h"
#include <fcntl.h>
#include <sys/sendfile.h>

extern char **environ;

int main(int argc, char **argv) {
  lab_arm_timeout();
  (void)argc;
  if (getenv("LAB_CLONED") != NULL) {
    lab_ready_and_wait();
    return 0;
  }
  int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0) lab_die("open /proc/self/exe");
  struct stat st;
  if (fstat(src, &st) != 0) lab_die("fstat self");
  int mfd = memfd_create("runc_cloned:/proc/self/exe", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) lab_die("memfd_create");
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
    if (n <= 0) lab_die("sendfile");
  }
  close(src);
  if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) lab_die("F_ADD_SEALS");
  struct stat mst;
  if (fstat(mfd, &mst) != 0) lab_die("fstat memfd");
  lab_fact("memfd", "%lu %lu", (unsigned long)mst.st_dev, (unsigned long)mst.st_ino);
  if (setenv("LAB_CLONED", "1", 1) != 0) lab_die("setenv");
  fexecve(mfd, argv, environ);
  lab_die("fexecve");
  return 1;
}
