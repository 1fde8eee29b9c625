/* `make bench-c-ipc`: C to C between two processes, through a cross-process port and through a
 * raw Unix socket between the same two processes, with the same 16-byte messages:
 *   - one way: the parent sends N messages, the child receives them all and acks; msgs/s;
 *   - round trip: the parent sends one, the child answers one, R times; p50 of the round trip.
 * The four workloads run interleaved (raw, port, raw, port...) RUNS times; the table shows the
 * medians beside each other and the ratio.
 * usage: bench_ipc [messages] [round_trips] [runs]
 * The child is this program again: `bench_ipc child <raw-fd> N R RUNS`. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <webmessaging.h>

/* 16 bytes of wire format: the 12-character one-byte string "0123456789ab". The raw socket
 * carries the same 16 bytes. */
static const uint8_t MSG[16] = {0xff, 0x0f, 0x22, 0x0c, '0', '1', '2', '3',
                                '4',  '5',  '6',  '7',  '8', '9', 'a', 'b'};

static void check(wm_status s, const char *what) {
  if (s != WM_OK) {
    fprintf(stderr, "bench_ipc %d: %s: %s (%s)\n", (int)getpid(), what, wm_status_str(s),
            wm_last_error());
    exit(1);
  }
}

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) {
      perror("bench_ipc: write");
      exit(1);
    }
    p += w;
    n -= (size_t)w;
  }
}

static void read_all(int fd, void *buf, size_t n) {
  char *p = buf;
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r <= 0) {
      perror("bench_ipc: read");
      exit(1);
    }
    p += r;
    n -= (size_t)r;
  }
}

static void recv_one(wm_port *p) {
  wm_message *m;
  check(wm_port_recv(p, -1, &m), "recv");
  wm_message_free(m);
}

static void post_one(wm_port *p) {
  check(wm_port_post_serialized(p, MSG, sizeof MSG, NULL, 0), "post");
}

/* The child: the same sequence of workloads as the parent, from the other side. */
static int child(int fd, long n, long rounds, int runs) {
  wm_port *p;
  check(wm_parent_port(&p), "wm_parent_port");
  uint8_t buf[16];
  for (int run = 0; run < runs; run++) {
    for (long i = 0; i < n; i++) read_all(fd, buf, sizeof buf);
    write_all(fd, buf, 1);
    for (long i = 0; i < n; i++) recv_one(p);
    post_one(p);
    for (long i = 0; i < rounds; i++) {
      read_all(fd, buf, sizeof buf);
      write_all(fd, buf, sizeof buf);
    }
    for (long i = 0; i < rounds; i++) {
      recv_one(p);
      post_one(p);
    }
  }
  check(wm_port_close(p), "close");
  wm_port_free(p);
  return 0;
}

static int cmp_ll(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return (x > y) - (x < y);
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static long long p50(long long *v, long n) {
  qsort(v, (size_t)n, sizeof *v, cmp_ll);
  return v[n / 2];
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  return v[n / 2];
}

int main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[1], "child") == 0) {
    return child(atoi(argv[2]), atol(argv[3]), atol(argv[4]), atoi(argv[5]));
  }
  long n = argc > 1 ? atol(argv[1]) : 200000;
  long rounds = argc > 2 ? atol(argv[2]) : 20000;
  int runs = argc > 3 ? atoi(argv[3]) : 5;
  if (n <= 0 || rounds <= 0 || runs <= 0 || runs > 64) {
    fprintf(stderr, "usage: bench_ipc [messages] [round_trips] [runs <= 64]\n");
    return 2;
  }

  /* The raw socket's child end is inherited (no close-on-exec), its number passed in argv. */
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
    perror("socketpair");
    return 1;
  }
  char fdarg[16], narg[24], rarg[24], runarg[16];
  snprintf(fdarg, sizeof fdarg, "%d", sv[1]);
  snprintf(narg, sizeof narg, "%ld", n);
  snprintf(rarg, sizeof rarg, "%ld", rounds);
  snprintf(runarg, sizeof runarg, "%d", runs);
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) {
    perror("readlink /proc/self/exe");
    return 1;
  }
  self[len] = '\0';
  const char *child_argv[] = {self, "child", fdarg, narg, rarg, runarg, NULL};
  int pid;
  wm_port *p;
  check(wm_spawn(child_argv, NULL, &pid, &p), "wm_spawn");
  close(sv[1]);
  int fd = sv[0];

  double raw_rate[64], port_rate[64], raw_rtt[64], port_rtt[64];
  long long *lat = malloc(sizeof(long long) * (size_t)rounds);
  uint8_t buf[16];
  if (lat == NULL) return 1;
  for (int run = 0; run < runs; run++) {
    long long t0 = now_ns();
    for (long i = 0; i < n; i++) write_all(fd, MSG, sizeof MSG);
    read_all(fd, buf, 1);
    raw_rate[run] = n / ((now_ns() - t0) / 1e9);

    t0 = now_ns();
    for (long i = 0; i < n; i++) post_one(p);
    recv_one(p);
    port_rate[run] = n / ((now_ns() - t0) / 1e9);

    for (long i = 0; i < rounds; i++) {
      long long s = now_ns();
      write_all(fd, MSG, sizeof MSG);
      read_all(fd, buf, sizeof buf);
      lat[i] = now_ns() - s;
    }
    raw_rtt[run] = (double)p50(lat, rounds);

    for (long i = 0; i < rounds; i++) {
      long long s = now_ns();
      post_one(p);
      recv_one(p);
      lat[i] = now_ns() - s;
    }
    port_rtt[run] = (double)p50(lat, rounds);
    fprintf(stderr, "run %d: one-way %.0f vs raw %.0f msg/s; round trip p50 %.0f vs raw %.0f ns\n",
            run + 1, port_rate[run], raw_rate[run], port_rtt[run], raw_rtt[run]);
  }
  wm_message *end;
  if (wm_port_recv(p, 10000, &end) != WM_ERR_CLOSED) {
    fprintf(stderr, "bench_ipc: the child did not close its port\n");
    return 1;
  }
  int st;
  waitpid(pid, &st, 0);
  wm_port_free(p);
  close(fd);
  free(lat);

  double pr = median(port_rate, runs), rr = median(raw_rate, runs);
  double pt = median(port_rtt, runs), rt = median(raw_rtt, runs);
  printf("\nC <-> C across two processes, 16-byte messages (median of %d interleaved runs, %ld "
         "messages one way, %ld round trips)\n",
         runs, n, rounds);
  printf("%-34s %14s %14s %8s %s\n", "workload", "wm port", "raw socket", "ratio", "goal");
  printf("%-34s %14.0f %14.0f %8.2f %s\n", "one-way throughput (msg/s)", pr, rr, pr / rr,
         ">= 0.80");
  printf("%-34s %14.0f %14.0f %8.2f %s\n", "round trip p50 (ns)", pt, rt, pt / rt, "<= 1.20");
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
