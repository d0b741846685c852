/* The lab's ordinary program: announce, then wait. Optional: --comm NAME sets comm (PR_SET_NAME). */
#include "lab.h"
#include <sys/prctl.h>

int main(int argc, char **argv) {
  lab_arm_timeout();
  if (argc >= 3 && strcmp(argv[1], "--comm") == 0) {
    if (prctl(PR_SET_NAME, argv[2], 0, 0, 0) != 0) lab_die("PR_SET_NAME");
  }
  lab_ready_and_wait();
  return 0;
}
