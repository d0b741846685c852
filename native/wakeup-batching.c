// Preloaded into bpftrace (0.17 to 0.19, whose printf output is a perf event array) by exetrace.
//
// bpftrace opens each CPU's output ring with wakeup_events = 1: every printf that finds its
// reader asleep wakes it, and that wakeup (irq_work, an IPI) runs in the traced task. Measured
// here: 106 us of BPF time per exec with it, 43 us without. bcc's open_perf_buffer lets a tool
// batch wakeups (wakeup_events); bpftrace 0.17 has no option for it, so this library:
//   1. opens the rings with a byte watermark instead (EXETRACE_WAKEUP_BYTES), and
//   2. makes bpftrace's epoll_wait return at least every EXETRACE_POLL_MS, with every ring
//      that holds unread data (its mmap'ed head differs from its tail) marked ready: a ring
//      below its watermark is still read within that time, so exetrace's drain markers and
//      the last events before a stop are never left waiting for more output. A ring with
//      nothing unread is not reported: bpftrace's final drain ends when epoll_wait returns 0.
// Nothing else is changed; calls on other file descriptors pass through.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define MAX_RINGS 4096

struct ring {
  int fd;
  int epfd; /* -1 until added to an epoll set */
  epoll_data_t data;
  volatile struct perf_event_mmap_page *page; /* NULL until mapped */
};

static struct ring rings[MAX_RINGS];
static int nrings;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static long env_long(const char *name, long fallback, long min, long max) {
  const char *s = getenv(name);
  if (s == NULL || *s == '\0') return fallback;
  char *end;
  long v = strtol(s, &end, 10);
  return *end != '\0' || v < min || v > max ? fallback : v;
}

long syscall(long nr, ...) {
  static long (*real)(long, ...);
  va_list ap;
  long a[6];
  va_start(ap, nr);
  for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
  va_end(ap);
  if (real == NULL) real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  int output = 0;
  if (nr == __NR_perf_event_open) {
    struct perf_event_attr *attr = (struct perf_event_attr *)a[0];
    if (attr != NULL && attr->type == PERF_TYPE_SOFTWARE && attr->config == PERF_COUNT_SW_BPF_OUTPUT) {
      attr->watermark = 1;
      attr->wakeup_watermark = (unsigned)env_long("EXETRACE_WAKEUP_BYTES", 65536, 1, 1L << 30);
      output = 1;
    }
  }
  long r = real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  if (output && r >= 0) {
    pthread_mutex_lock(&lock);
    if (nrings < MAX_RINGS) rings[nrings++] = (struct ring){.fd = (int)r, .epfd = -1};
    pthread_mutex_unlock(&lock);
  }
  return r;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  static void *(*real)(void *, size_t, int, int, int, off_t);
  if (real == NULL) real = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
  void *r = real(addr, len, prot, flags, fd, off);
  if (r == MAP_FAILED || fd < 0 || off != 0) return r;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < nrings; i++)
    if (rings[i].fd == fd && rings[i].page == NULL) rings[i].page = (volatile struct perf_event_mmap_page *)r;
  pthread_mutex_unlock(&lock);
  return r;
}

int munmap(void *addr, size_t len) {
  static int (*real)(void *, size_t);
  if (real == NULL) real = (int (*)(void *, size_t))dlsym(RTLD_NEXT, "munmap");
  pthread_mutex_lock(&lock);
  for (int i = 0; i < nrings; i++)
    if ((void *)rings[i].page == addr) rings[i].page = NULL;
  pthread_mutex_unlock(&lock);
  return real(addr, len);
}

static int unread(const struct ring *ring) {
  if (ring->page == NULL) return 0;
  return __atomic_load_n(&ring->page->data_head, __ATOMIC_ACQUIRE) != ring->page->data_tail;
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev) {
  static int (*real)(int, int, int, struct epoll_event *);
  if (real == NULL) real = (int (*)(int, int, int, struct epoll_event *))dlsym(RTLD_NEXT, "epoll_ctl");
  int r = real(epfd, op, fd, ev);
  if (r != 0) return r;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < nrings; i++) {
    if (rings[i].fd != fd) continue;
    if (op == EPOLL_CTL_ADD && ev != NULL) {
      rings[i].epfd = epfd;
      rings[i].data = ev->data;
    } else if (op == EPOLL_CTL_DEL) {
      rings[i].epfd = -1;
    }
  }
  pthread_mutex_unlock(&lock);
  return r;
}

int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout) {
  static int (*real)(int, struct epoll_event *, int, int);
  if (real == NULL) real = (int (*)(int, struct epoll_event *, int, int))dlsym(RTLD_NEXT, "epoll_wait");
  int mine = 0;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < nrings && !mine; i++) mine = rings[i].epfd == epfd;
  pthread_mutex_unlock(&lock);
  if (!mine) return real(epfd, events, maxevents, timeout);
  int poll_ms = (int)env_long("EXETRACE_POLL_MS", 20, 1, 1000);
  int n = real(epfd, events, maxevents, timeout < 0 || timeout > poll_ms ? poll_ms : timeout);
  if (n < 0) return n;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < nrings && n < maxevents; i++) {
    if (rings[i].epfd != epfd || !unread(&rings[i])) continue;
    int seen = 0;
    for (int j = 0; j < n && !seen; j++) seen = events[j].data.u64 == rings[i].data.u64;
    if (seen) continue;
    events[n].events = EPOLLIN;
    events[n].data = rings[i].data;
    n++;
  }
  pthread_mutex_unlock(&lock);
  return n;
}
