/*
 * A container runtime's self-protection (runc >= 1.1.15, CVE-2019-5736): copy /proc/self/exe
 * into a sealed memfd named "runc_cloned:/proc/self/exe" and re-exec from it, so the binary on
 * disk is never the running image. The clone (marked by an environment variable) announces and
 * waits. The pid stays the same across the exec.
 */
#include "lab.h"

extern char **environ;

int main(int argc, char **argv) {
  lab_arm_timeout();
  (void)argc;
  if (getenv("LAB_CLONED") != NULL) {
    lab_ready_and_wait();
    return 0;
  }
  int mfd = lab_copy_to_memfd("/proc/self/exe", "runc_cloned:/proc/self/exe", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) lab_die("F_ADD_SEALS");
  lab_fact_identity("memfd", mfd);
  if (setenv("LAB_CLONED", "1", 1) != 0) lab_die("setenv");
  fexecve(mfd, argv, environ);
  lab_die("fexecve");
  return 1;
}
