/*
 * text-unmapped (the seed RFC's case): copy every executable mapping of our own file to
 * anonymous memory and mremap the copy over the original, so execution continues from the same
 * addresses while no executable mapping of the exe remains. The read-only and data segments of
 * the file stay mapped (the pre-2.6.26 walk would still find them).
 */
#include "lab.h"

static volatile unsigned long spin_counter;

/* Runs from the anonymous copy after the remap: proves the copied text really executes. */
static __attribute__((noinline)) unsigned long spin(unsigned long n) {
  for (unsigned long i = 0; i < n; i++) spin_counter += i;
  return spin_counter;
}

int main(void) {
  lab_arm_timeout();
  static struct lab_range r[16];
  int n = lab_exe_ranges(r, 16, 1);
  if (n == 0) { errno = ENOENT; lab_die("no executable mapping of the exe"); }
  lab_replace_with_anon_copy(r, n);
  lab_fact("text_ranges", "%d", n);
  for (int i = 0; i < n; i++) lab_fact("text_range", "%lx-%lx", r[i].start, r[i].end);
  lab_fact("text_remaining", "%d", lab_exe_ranges(r, 16, 1));
  lab_fact("spin", "%lu", spin(1000));
  lab_ready_and_wait();
  return 0;
}
