/* Shared helpers for the exetrace scenario lab. Header-only so each scenario is one gcc call. */
#ifndef LAB_H
#define LAB_H
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Hard limit so a scenario never outlives a crashed test run. LAB_TIMEOUT_S overrides. */
static void lab_arm_timeout(void) {
  const char *env = getenv("LAB_TIMEOUT_S");
  unsigned secs = env ? (unsigned)strtoul(env, NULL, 10) : 120;
  alarm(secs ? secs : 120);
}

static void lab_die(const char *what) {
  printf("error %s errno=%d %s\n", what, errno, strerror(errno));
  fflush(stdout);
  exit(2);
}

/* "fact KEY VALUE" lines are parsed by scenarios.ts and asserted by the tests. */
__attribute__((unused, format(printf, 2, 3))) static void lab_fact(const char *key, const char *fmt, ...);
static void lab_fact(const char *key, const char *fmt, ...) {
  va_list ap;
  printf("fact %s ", key);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

/* Announce readiness, then live until stdin reaches EOF (the test's stop()) or a signal/alarm. */
__attribute__((unused)) static void lab_ready_and_wait(void) {
  char buf[256];
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0 && errno != EINTR) break;
  }
  printf("exiting %d\n", (int)getpid());
  fflush(stdout);
}

struct lab_range {
  unsigned long start, end;
  char perms[5];
};

/*
 * Every mapping of /proc/self/exe's (dev, ino), from /proc/self/maps, collected into the
 * caller's array first so nothing is remapped while maps is being read.
 */
__attribute__((unused)) static int lab_exe_ranges(struct lab_range *out, int max, int only_exec) {
  struct stat exe;
  if (stat("/proc/self/exe", &exe) != 0) lab_die("stat /proc/self/exe");
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) lab_die("open maps");
  char line[4096];
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long start, end, off, ino;
    unsigned maj, min;
    char perms[5];
    if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu", &start, &end, perms, &off, &maj, &min, &ino) != 7) continue;
    if (ino != exe.st_ino || makedev(maj, min) != exe.st_dev) continue;
    if (only_exec && perms[2] != 'x') continue;
    if (n < max) {
      out[n].start = start;
      out[n].end = end;
      memcpy(out[n].perms, perms, 5);
      n++;
    }
  }
  fclose(f);
  return n;
}

/*
 * Replace each range with an anonymous copy at the same address (mremap MAYMOVE|FIXED), so the
 * code keeps running from identical bytes while no mapping of the executable file remains there.
 * The copy/remap calls themselves run in libc, never inside the range being replaced.
 */
__attribute__((unused)) static void lab_replace_with_anon_copy(const struct lab_range *r, int n) {
  for (int i = 0; i < n; i++) {
    size_t len = r[i].end - r[i].start;
    int prot = (r[i].perms[0] == 'r' ? PROT_READ : 0) | (r[i].perms[1] == 'w' ? PROT_WRITE : 0) |
               (r[i].perms[2] == 'x' ? PROT_EXEC : 0);
    void *copy = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (copy == MAP_FAILED) lab_die("mmap copy");
    if (!(prot & PROT_READ) && mprotect((void *)r[i].start, len, prot | PROT_READ) != 0) lab_die("mprotect src");
    memcpy(copy, (void *)r[i].start, len);
    if (mprotect(copy, len, prot) != 0) lab_die("mprotect copy");
    void *moved = mremap(copy, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)r[i].start);
    if (moved != (void *)r[i].start) lab_die("mremap");
  }
}

/* Copy the file at PATH into a new memfd (memfd_create NAME, FLAGS); returns the fd. */
__attribute__((unused)) static int lab_copy_to_memfd(const char *path, const char *name, unsigned int flags) {
  int src = open(path, O_RDONLY | O_CLOEXEC);
  if (src < 0) lab_die("open source");
  struct stat st;
  if (fstat(src, &st) != 0) lab_die("fstat source");
  int mfd = memfd_create(name, flags);
  if (mfd < 0) lab_die("memfd_create");
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
    if (n <= 0) lab_die("sendfile");
  }
  close(src);
  return mfd;
}

/* Print "fact KEY DEV INO" for an fd. */
__attribute__((unused)) static void lab_fact_identity(const char *key, int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) lab_die("fstat");
  lab_fact(key, "%lu %lu", (unsigned long)st.st_dev, (unsigned long)st.st_ino);
}

#endif
