/* Cross-process ports through the C ABI: wm_spawn/wm_parent_port, wm_listen/wm_connect,
 * wm_port_export_fd/wm_port_import_fd, close and crash notices, and misuse of each.
 *
 * The children are this test binary run again: `test_ipc child <mode> [args]`. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* Generous: a test waits this long for something that should come at once, so a broken
 * transport fails the check instead of hanging the suite. */
#define LONG_MS 20000

static const char *self_path;

static void sleep_ms(int ms) {
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* Waits up to `ms` for the child to exit; returns its wait status, or -1 after killing a child
 * that did not exit in time. */
static int wait_child(int pid, int ms) {
  for (int waited = 0; waited <= ms; waited += 10) {
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) return st;
    if (r < 0) return -1;
    sleep_ms(10);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  fprintf(stderr, "  child %d did not exit within %d ms: killed\n", pid, ms);
  return -1;
}

static int exited_ok(int st) { return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0; }

/* Spawns this binary as `child <mode> <arg>`. */
static wm_status spawn_child(const char *mode, const char *arg, int *pid, wm_port **port) {
  const char *argv[] = {self_path, "child", mode, arg, NULL};
  return wm_spawn(argv, NULL, pid, port);
}

/* The JSON text of the next message on `port`, or NULL (and a failed check). */
static char *recv_json(wm_port *port) {
  wm_message *m = NULL;
  wm_status s = wm_port_recv(port, LONG_MS, &m);
  if (s != WM_OK) {
    fprintf(stderr, "  recv: %s (%s)\n", wm_status_str(s), wm_last_error());
    harness_failed_checks++;
    return NULL;
  }
  char *text = NULL;
  CHECK_OK(wm_message_to_json(m, &text));
  wm_message_free(m);
  return text;
}

static void check_next_json(wm_port *port, const char *want) {
  char *got = recv_json(port);
  CHECK_STR(got, want);
  wm_string_free(got);
}

static void temp_path(char *buf, size_t n, const char *tag) {
  snprintf(buf, n, "/tmp/wm-test-ipc-%d-%s.sock", (int)getpid(), tag);
  unlink(buf);
}

/* ---- the children ------------------------------------------------------------------------ */

/* echo: answers each message with {"got": <its value>} until the port closes. */
static int child_echo(wm_port *p) {
  for (;;) {
    wm_message *m;
    wm_status s = wm_port_recv(p, -1, &m);
    if (s == WM_ERR_CLOSED) return 0;
    if (s != WM_OK) return 1;
    wm_value *v = NULL, *reply = NULL;
    int bad = wm_message_value(m, &v) != WM_OK || wm_value_new_object(&reply) != WM_OK ||
              wm_value_object_set(reply, "got", v) != WM_OK ||
              wm_port_post(p, reply, NULL, 0) != WM_OK;
    wm_value_free(v);
    wm_value_free(reply);
    wm_message_free(m);
    if (bad) return 1;
  }
}

/* send N: posts {"seq":1..N}, then closes. */
static int child_send(wm_port *p, int n) {
  for (int i = 1; i <= n; i++) {
    char text[32];
    snprintf(text, sizeof text, "{\"seq\":%d}", i);
    if (wm_port_post_json(p, text) != WM_OK) return 1;
  }
  return wm_port_close(p) == WM_OK ? 0 : 1;
}

/* hang N: posts {"seq":1..N}, then waits to be killed. */
static int child_hang(wm_port *p, int n) {
  for (int i = 1; i <= n; i++) {
    char text[32];
    snprintf(text, sizeof text, "{\"seq\":%d}", i);
    if (wm_port_post_json(p, text) != WM_OK) return 1;
  }
  for (;;) pause();
}

/* client PATH: connects, says hello, waits for one answer and checks it, closes. */
static int child_client(const char *path) {
  wm_port *p;
  if (wm_connect(path, LONG_MS, &p) != WM_OK) {
    fprintf(stderr, "child: connect: %s\n", wm_last_error());
    return 1;
  }
  char hello[64];
  snprintf(hello, sizeof hello, "{\"hello\":%d}", (int)getpid());
  int ok = wm_port_post_json(p, hello) == WM_OK;
  wm_message *m = NULL;
  char *text = NULL;
  ok = ok && wm_port_recv(p, LONG_MS, &m) == WM_OK && wm_message_to_json(m, &text) == WM_OK;
  char want[64];
  snprintf(want, sizeof want, "{\"welcome\":%d}", (int)getpid());
  ok = ok && strcmp(text, want) == 0;
  wm_string_free(text);
  wm_message_free(m);
  wm_port_close(p);
  wm_port_free(p);
  return ok ? 0 : 1;
}

/* relay: takes the port of the first message and posts it straight back, then exits. */
static int child_relay(wm_port *p) {
  wm_message *m;
  wm_port *carried;
  if (wm_port_recv(p, LONG_MS, &m) != WM_OK || wm_message_take_port(m, 0, &carried) != WM_OK) {
    return 1;
  }
  wm_message_free(m);
  int ok = wm_port_post_json_transfer(p, "{\"relayed\":true}", &carried, 1) == WM_OK;
  wm_port_free(carried);
  return ok ? 0 : 1; /* exits at once: the message carrying the port has left (exit flushes) */
}

static int child_main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[2], "client") == 0) return argc >= 4 ? child_client(argv[3]) : 2;
  wm_port *p;
  if (wm_parent_port(&p) != WM_OK) {
    fprintf(stderr, "child: wm_parent_port: %s\n", wm_last_error());
    return 1;
  }
  /* Taken once: the variable is gone now. */
  wm_port *again;
  if (wm_parent_port(&again) != WM_ERR_NOT_FOUND || getenv("WEBMESSAGING_PORT_FD") != NULL) {
    return 1;
  }
  int rc = 2;
  if (argc >= 3 && strcmp(argv[2], "echo") == 0) rc = child_echo(p);
  if (argc >= 3 && strcmp(argv[2], "relay") == 0) rc = child_relay(p);
  if (argc >= 4 && strcmp(argv[2], "send") == 0) rc = child_send(p, atoi(argv[3]));
  if (argc >= 4 && strcmp(argv[2], "hang") == 0) rc = child_hang(p, atoi(argv[3]));
  wm_port_free(p);
  return rc;
}

/* ---- the tests --------------------------------------------------------------------------- */

/* A spawned child gets its port with wm_parent_port; values go both ways, JSON and value trees
 * alike; closing our end ends the child's loop and it exits 0. */
static void spawn_exchanges_values_both_ways(void) {
  int pid;
  wm_port *p;
  CHECK_OK(spawn_child("echo", "", &pid, &p));
  REQUIRE(p != NULL && pid > 0);

  CHECK_OK(wm_port_post_json(p, "{\"a\":[1,\"two\",null,true],\"b\":{\"c\":-1.5}}"));
  check_next_json(p, "{\"got\":{\"a\":[1,\"two\",null,true],\"b\":{\"c\":-1.5}}}");

  /* A value with no JSON form: a Map with a cycle back to itself, and a BigInt. */
  wm_value *map, *key, *big;
  CHECK_OK(wm_value_new_map(&map));
  CHECK_OK(wm_value_new_string("self", 4, &key));
  CHECK_OK(wm_value_map_set(map, key, map));
  CHECK_OK(wm_value_new_bigint("-123456789012345678901234567890", &big));
  CHECK_OK(wm_value_map_set(map, big, big));
  CHECK_OK(wm_port_post(p, map, NULL, 0));
  wm_message *m = NULL;
  CHECK_OK(wm_port_recv(p, LONG_MS, &m));
  wm_value *root = NULL, *got = NULL, *k = NULL, *item = NULL;
  CHECK_OK(wm_message_value(m, &root));
  CHECK_OK(wm_value_object_get(root, "got", &got));
  size_t n = 0;
  CHECK_OK(wm_value_length(got, &n));
  CHECK(n == 2);
  CHECK_OK(wm_value_map_entry(got, 0, &k, &item));
  bool same = false;
  CHECK_OK(wm_value_same(item, got, &same));
  CHECK(same); /* the cycle survived the two trips */
  wm_value_free(k);
  wm_value_free(item);
  CHECK_OK(wm_value_map_entry(got, 1, &k, &item));
  char *text = NULL;
  CHECK_OK(wm_value_get_bigint(item, &text));
  CHECK_STR(text, "-123456789012345678901234567890");
  wm_string_free(text);
  wm_value_free(k);
  wm_value_free(item);
  wm_value_free(got);
  wm_value_free(root);
  wm_message_free(m);
  wm_value_free(map);
  wm_value_free(key);
  wm_value_free(big);

  CHECK_OK(wm_port_close(p));
  CHECK(exited_ok(wait_child(pid, LONG_MS)));
  CHECK_OK(wm_port_free(p));
}

typedef struct {
  int received, next_seq, in_order, closes;
  wm_close_reason reason;
  bool by_peer;
} tally;

static void tally_message(void *userdata, wm_port *port, wm_message *msg) {
  (void)port;
  tally *t = userdata;
  wm_value *v = NULL, *seq = NULL;
  double d = 0;
  if (wm_message_value(msg, &v) == WM_OK && wm_value_object_get(v, "seq", &seq) == WM_OK &&
      wm_value_get_number(seq, &d) == WM_OK && (int)d == t->next_seq) {
    t->next_seq++;
  } else {
    t->in_order = 0;
  }
  wm_value_free(seq);
  wm_value_free(v);
  t->received++;
}

static void tally_close(void *userdata, wm_port *port, wm_close_reason reason, bool by_peer) {
  (void)port;
  tally *t = userdata;
  t->closes++;
  t->reason = reason;
  t->by_peer = by_peer;
}

/* Runs the loop until `port`'s onclose ran or nothing happened for LONG_MS. */
static void run_until_closed(wm_loop *l, tally *t) {
  while (t->closes == 0) {
    if (wm_loop_wait(l, LONG_MS) != WM_OK) {
      fprintf(stderr, "  the loop waited %d ms for the close notice\n", LONG_MS);
      harness_failed_checks++;
      return;
    }
    CHECK_OK(wm_loop_dispatch(l, 0, NULL));
  }
}

/* The child posts N messages and closes: we get all N in order, then the close notice
 * (WM_CLOSE_CLOSED, by the peer), and receive calls report WM_ERR_CLOSED. */
static void n_messages_then_close_notice(void) {
  const int n = scaled(5000);
  char arg[16];
  snprintf(arg, sizeof arg, "%d", n);
  int pid;
  wm_port *p;
  CHECK_OK(spawn_child("send", arg, &pid, &p));
  REQUIRE(p != NULL);
  CHECK(exited_ok(wait_child(pid, LONG_MS))); /* it may exit before we read: nothing is lost */
  wm_loop *l;
  CHECK_OK(wm_loop_new(&l));
  tally t = {0, 1, 1, 0, 0, false};
  CHECK_OK(wm_loop_attach(l, p, tally_message, tally_close, &t, NULL));
  run_until_closed(l, &t);
  CHECK(t.received == n);
  CHECK(t.in_order);
  CHECK(t.closes == 1);
  CHECK(t.reason == WM_CLOSE_CLOSED);
  CHECK(t.by_peer);
  wm_message *m = NULL;
  CHECK_STATUS(wm_port_recv(p, 0, &m), WM_ERR_CLOSED);
  CHECK(m == NULL);
  CHECK_OK(wm_loop_free(l));
  CHECK_OK(wm_port_free(p));
}

/* Waits until `n` messages are queued at `port` (read by the transport, not yet received). */
static int wait_queued(wm_port *port, size_t n) {
  for (int waited = 0; waited < LONG_MS; waited += 5) {
    wm_port_metrics mt;
    if (wm_port_get_metrics(port, &mt) != WM_OK) return 0;
    if (mt.depth >= n) return 1;
    sleep_ms(5);
  }
  return 0;
}

/* SIGKILL of the child: everything it wrote arrives, then WM_CLOSE_LOST — from the loop's
 * onclose here, and as WM_ERR_CLOSED from wm_port_recv in the second round. */
static void sigkill_delivers_what_was_written_then_lost(void) {
  const int n = scaled(1000);
  char arg[16];
  snprintf(arg, sizeof arg, "%d", n);
  for (int round = 0; round < 2; round++) {
    int pid;
    wm_port *p;
    CHECK_OK(spawn_child("hang", arg, &pid, &p));
    REQUIRE(p != NULL);
    CHECK(wait_queued(p, (size_t)n));
    CHECK(kill(pid, SIGKILL) == 0);
    int st = wait_child(pid, LONG_MS);
    CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    if (round == 0) {
      wm_loop *l;
      CHECK_OK(wm_loop_new(&l));
      tally t = {0, 1, 1, 0, 0, false};
      CHECK_OK(wm_loop_attach(l, p, tally_message, tally_close, &t, NULL));
      run_until_closed(l, &t);
      CHECK(t.received == n);
      CHECK(t.in_order);
      CHECK(t.reason == WM_CLOSE_LOST);
      CHECK(t.by_peer);
      CHECK_OK(wm_loop_free(l));
    } else {
      for (int i = 1; i <= n; i++) {
        char want[32];
        snprintf(want, sizeof want, "{\"seq\":%d}", i);
        check_next_json(p, want);
      }
      wm_message *m = NULL;
      CHECK_STATUS(wm_port_recv(p, LONG_MS, &m), WM_ERR_CLOSED);
      CHECK(strstr(wm_last_error(), "ost") != NULL); /* the message says the peer was lost */
    }
    CHECK_OK(wm_port_free(p));
  }
}

/* A listener gets one port per client; its descriptor turns readable when one waits. Two
 * client processes connect, each says hello and gets its own answer. */
static void listen_accepts_two_clients(void) {
  char path[128];
  temp_path(path, sizeof path, "two");
  wm_listener *l;
  CHECK_OK(wm_listen(path, &l));
  REQUIRE(l != NULL);
  struct stat st;
  CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 077) == 0); /* owner only */
  int fd = -1;
  CHECK_OK(wm_listener_fd(l, &fd));
  CHECK(fd >= 0);
  wm_port *none = NULL;
  CHECK_STATUS(wm_listener_accept(l, 0, &none), WM_ERR_TIMEOUT);
  CHECK(none == NULL);
  struct pollfd idle = {fd, POLLIN, 0};
  CHECK(poll(&idle, 1, 0) == 0); /* nobody waits: not readable */

  int pids[2];
  const char *argv[] = {self_path, "child", "client", path, NULL};
  for (int i = 0; i < 2; i++) {
    wm_port *unused;
    /* Spawned with a port too (unused by a client): wm_spawn is the portable way to start one. */
    CHECK_OK(wm_spawn(argv, NULL, &pids[i], &unused));
    wm_port_free(unused);
  }
  wm_port *ports[2] = {NULL, NULL};
  int accepted = 0;
  for (int tries = 0; accepted < 2 && tries < 100; tries++) {
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, LONG_MS) != 1) break;
    wm_port *p;
    wm_status s;
    while (accepted < 2 && (s = wm_listener_accept(l, 0, &p)) == WM_OK) ports[accepted++] = p;
  }
  CHECK(accepted == 2);
  CHECK(poll(&idle, 1, 0) == 0); /* both taken: not readable any more */
  for (int i = 0; i < accepted; i++) {
    char *hello = recv_json(ports[i]);
    int who = 0;
    CHECK(hello != NULL && sscanf(hello, "{\"hello\":%d}", &who) == 1);
    CHECK(who == pids[0] || who == pids[1]);
    char welcome[64];
    snprintf(welcome, sizeof welcome, "{\"welcome\":%d}", who);
    CHECK_OK(wm_port_post_json(ports[i], welcome));
    wm_string_free(hello);
  }
  for (int i = 0; i < 2; i++) CHECK(exited_ok(wait_child(pids[i], LONG_MS)));
  for (int i = 0; i < accepted; i++) {
    wm_message *m = NULL;
    CHECK_STATUS(wm_port_recv(ports[i], LONG_MS, &m), WM_ERR_CLOSED);
    CHECK_OK(wm_port_free(ports[i]));
  }
  CHECK_OK(wm_listener_close(l));
  CHECK(poll(&idle, 1, 0) == 1); /* closed: readable for good */
  CHECK(access(path, F_OK) != 0); /* the socket file is gone */
  CHECK_STATUS(wm_listener_accept(l, 0, &none), WM_ERR_CLOSED);
  CHECK_STATUS(wm_listener_accept(l, -1, &none), WM_ERR_CLOSED);
  CHECK_OK(wm_listener_free(l));
}

typedef struct {
  wm_listener *listener;
  wm_status status;
} blocked_accept;

static void *accept_forever(void *arg) {
  blocked_accept *b = arg;
  wm_port *p = NULL;
  b->status = wm_listener_accept(b->listener, -1, &p);
  wm_port_free(p);
  return NULL;
}

/* wm_listener_close wakes a thread blocked in wm_listener_accept without limit. */
static void close_wakes_a_blocked_accept(void) {
  char path[128];
  temp_path(path, sizeof path, "wake");
  blocked_accept b = {NULL, WM_OK};
  CHECK_OK(wm_listen(path, &b.listener));
  REQUIRE(b.listener != NULL);
  pthread_t t;
  REQUIRE(pthread_create(&t, NULL, accept_forever, &b) == 0);
  sleep_ms(100); /* let it block (if it has not yet, it finds the listener closed: same result) */
  CHECK_OK(wm_listener_close(b.listener));
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += LONG_MS / 1000;
  int joined = pthread_timedjoin_np(t, NULL, &deadline) == 0;
  CHECK(joined);
  if (!joined) {
    pthread_detach(t); /* still blocked: leave it (and its listener) to the process's end */
    return;
  }
  CHECK_STATUS(b.status, WM_ERR_CLOSED);
  CHECK_OK(wm_listener_free(b.listener));
}

typedef struct {
  wm_port *port;
  int connects, finalized;
} hub;

static void hub_connect(void *userdata, wm_listener *listener, wm_message *event) {
  (void)listener;
  hub *h = userdata;
  size_t n = 0;
  CHECK_OK(wm_message_port_count(event, &n));
  CHECK(n == 1);
  if (h->port == NULL) CHECK_OK(wm_message_take_port(event, 0, &h->port));
  h->connects++;
}

static void hub_finalize(void *userdata) { ((hub *)userdata)->finalized++; }

/* A listener attached to a wm_loop: a client's connection becomes an onconnect call whose event
 * carries the port (event.ports[0]); closing the listener ends the registration. */
static void listener_on_a_loop(void) {
  char path[128];
  temp_path(path, sizeof path, "loop");
  wm_listener *l;
  CHECK_OK(wm_listen(path, &l));
  REQUIRE(l != NULL);
  wm_loop *lp;
  CHECK_OK(wm_loop_new(&lp));
  hub h = {NULL, 0, 0};
  CHECK_OK(wm_listener_attach(lp, l, hub_connect, &h, hub_finalize));
  int pid;
  wm_port *unused;
  const char *argv[] = {self_path, "child", "client", path, NULL};
  CHECK_OK(wm_spawn(argv, NULL, &pid, &unused));
  wm_port_free(unused);
  while (h.connects == 0 && wm_loop_wait(lp, LONG_MS) == WM_OK) {
    CHECK_OK(wm_loop_dispatch(lp, 0, NULL));
  }
  CHECK(h.connects == 1);
  if (h.port != NULL) {
    char *hello = recv_json(h.port);
    int who = 0;
    CHECK(hello != NULL && sscanf(hello, "{\"hello\":%d}", &who) == 1 && who == pid);
    wm_string_free(hello);
    char welcome[64];
    snprintf(welcome, sizeof welcome, "{\"welcome\":%d}", who);
    CHECK_OK(wm_port_post_json(h.port, welcome));
  }
  CHECK(exited_ok(wait_child(pid, LONG_MS)));
  CHECK(h.finalized == 0);
  CHECK_OK(wm_listener_close(l));
  CHECK_OK(wm_loop_wait(lp, LONG_MS)); /* the close makes the loop look */
  CHECK_OK(wm_loop_dispatch(lp, 0, NULL));
  CHECK(h.finalized == 1);
  CHECK_STATUS(wm_listener_attach(lp, l, hub_connect, &h, hub_finalize), WM_ERR_CLOSED);
  CHECK(h.finalized == 1); /* a failed attach registers nothing */
  CHECK_OK(wm_port_free(h.port));
  CHECK_OK(wm_loop_free(lp));
  CHECK_OK(wm_listener_free(l));
}

/* Taken paths and missing endpoints are named errors; nothing is replaced or left behind. */
static void listen_and_connect_errors_are_named(void) {
  char path[128];
  temp_path(path, sizeof path, "taken");
  int f = open(path, O_CREAT | O_WRONLY, 0600);
  REQUIRE(f >= 0);
  close(f);
  wm_listener *l = (wm_listener *)1;
  CHECK_STATUS(wm_listen(path, &l), WM_ERR_ADDRESS_IN_USE);
  CHECK(l == NULL);
  struct stat st;
  CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode)); /* the file was not replaced */
  wm_port *p = (wm_port *)1;
  CHECK_STATUS(wm_connect(path, 1000, &p), WM_ERR_REFUSED); /* not a socket that listens */
  CHECK(p == NULL);
  unlink(path);

  /* A live listener's path is taken too. */
  wm_listener *first;
  CHECK_OK(wm_listen(path, &first));
  CHECK_STATUS(wm_listen(path, &l), WM_ERR_ADDRESS_IN_USE);
  CHECK_OK(wm_listener_free(first));
  CHECK(access(path, F_OK) != 0);

  CHECK_STATUS(wm_connect(path, 1000, &p), WM_ERR_NOT_FOUND);
  CHECK_STATUS(wm_listen("/nonexistent-dir-wm-test/x.sock", &l), WM_ERR_NOT_FOUND);
  /* A directory we may not write: one of ours made read-only (root writes anyway), and /sys,
   * where even root may not create a socket. */
  char dir[128], inside[160];
  snprintf(dir, sizeof dir, "/tmp/wm-test-ipc-%d-ro", (int)getpid());
  snprintf(inside, sizeof inside, "%s/x.sock", dir);
  REQUIRE(mkdir(dir, 0500) == 0);
  if (geteuid() != 0) CHECK_STATUS(wm_listen(inside, &l), WM_ERR_PERMISSION);
  rmdir(dir);
  struct stat sys;
  if (stat("/sys", &sys) == 0 && S_ISDIR(sys.st_mode)) {
    CHECK_STATUS(wm_listen("/sys/wm-test-ipc.sock", &l), WM_ERR_PERMISSION);
  }
}

/* One process, one socket: a port exported as a descriptor and imported again is entangled
 * with its old peer, backlog included; the exported handle is detached. */
static void export_and_import_in_one_process(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_port_post_json(a, "\"before\""));
  int fd = -1;
  CHECK_OK(wm_port_export_fd(b, &fd));
  REQUIRE(fd >= 0);
  CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  wm_port_state state;
  CHECK_OK(wm_port_get_state(b, &state));
  CHECK(state.detached);
  CHECK_OK(wm_port_post_json(a, "\"while exported\""));
  wm_port *b2 = NULL;
  CHECK_OK(wm_port_import_fd(fd, &b2));
  REQUIRE(b2 != NULL);
  CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF); /* the library took it */
  check_next_json(b2, "\"before\"");
  check_next_json(b2, "\"while exported\"");
  CHECK_OK(wm_port_post_json(b2, "{\"back\":1}"));
  check_next_json(a, "{\"back\":1}");
  /* Exporting again the port it came from: it is detached. */
  int fd2 = 7;
  CHECK_STATUS(wm_port_export_fd(b, &fd2), WM_ERR_DATA_CLONE);
  CHECK(fd2 == -1);
  /* The imported port moves on again, and closing it reaches the other end. */
  CHECK_OK(wm_port_export_fd(b2, &fd2));
  wm_port *b3 = NULL;
  CHECK_OK(wm_port_import_fd(fd2, &b3));
  CHECK_OK(wm_port_close(b3));
  wm_message *m = NULL;
  CHECK_STATUS(wm_port_recv(a, LONG_MS, &m), WM_ERR_CLOSED);
  CHECK_OK(wm_port_free(a));
  CHECK_OK(wm_port_free(b));
  CHECK_OK(wm_port_free(b2));
  CHECK_OK(wm_port_free(b3));
}

/* An attached port that is exported leaves its loop (its finalizer runs). */
static int finalized;
static void count_finalizer(void *userdata) {
  (void)userdata;
  finalized++;
}

static void export_drops_the_loop_registration(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  wm_loop *l;
  CHECK_OK(wm_loop_new(&l));
  finalized = 0;
  CHECK_OK(wm_loop_attach(l, b, NULL, NULL, NULL, count_finalizer));
  int fd = -1;
  CHECK_OK(wm_port_export_fd(b, &fd));
  CHECK(finalized == 1);
  close(fd); /* dropping the descriptor drops the port: the peer hears of it */
  wm_message *m = NULL;
  CHECK_STATUS(wm_port_recv(a, LONG_MS, &m), WM_ERR_CLOSED);
  CHECK_OK(wm_loop_free(l));
  CHECK_OK(wm_port_free(a));
  CHECK_OK(wm_port_free(b));
}

/* Bad descriptors, NULLs, stale handles and bad strings are named errors; a failed import
 * leaves the caller's descriptor open. */
static void misuse_is_named(void) {
  wm_port *p = (wm_port *)1;
  CHECK_STATUS(wm_port_import_fd(-1, &p), WM_ERR_INVALID_ARG);
  CHECK(p == NULL);
  int pipefd[2];
  REQUIRE(pipe(pipefd) == 0);
  CHECK_STATUS(wm_port_import_fd(pipefd[0], &p), WM_ERR_INVALID_ARG); /* not a socket */
  CHECK(fcntl(pipefd[0], F_GETFD) != -1);                            /* still the caller's */
  close(pipefd[0]);
  close(pipefd[1]);
  CHECK_STATUS(wm_port_import_fd(pipefd[0], &p), WM_ERR_INVALID_ARG); /* closed */
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  CHECK_STATUS(wm_port_import_fd(sv[0], NULL), WM_ERR_NULL_ARG);
  CHECK(fcntl(sv[0], F_GETFD) != -1);
  close(sv[0]);
  close(sv[1]);

  int fd = 5;
  CHECK_STATUS(wm_port_export_fd(NULL, &fd), WM_ERR_NULL_ARG);
  CHECK(fd == -1);
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_STATUS(wm_port_export_fd(a, NULL), WM_ERR_NULL_ARG);
  CHECK_OK(wm_port_close(a));
  CHECK_STATUS(wm_port_export_fd(a, &fd), WM_ERR_DATA_CLONE); /* closed */
  CHECK_OK(wm_port_free(a));
  CHECK_STATUS(wm_port_export_fd(a, &fd), WM_ERR_INVALID_HANDLE); /* freed */
  CHECK_OK(wm_port_free(b));

  wm_listener *l = (wm_listener *)1;
  CHECK_STATUS(wm_listen(NULL, &l), WM_ERR_NULL_ARG);
  CHECK(l == NULL);
  CHECK_STATUS(wm_listen("", &l), WM_ERR_INVALID_ARG);
  CHECK_STATUS(wm_listen("/tmp/wm-\xff\xfe.sock", &l), WM_ERR_INVALID_ARG);
  CHECK_STATUS(wm_listen("/tmp/x.sock", NULL), WM_ERR_NULL_ARG);
  char long_path[300];
  memset(long_path, 'x', sizeof long_path - 1);
  memcpy(long_path, "/tmp/", 5);
  long_path[sizeof long_path - 1] = '\0';
  CHECK_STATUS(wm_listen(long_path, &l), WM_ERR_INVALID_ARG);
  CHECK_STATUS(wm_connect(long_path, 0, &p), WM_ERR_INVALID_ARG);
  CHECK_STATUS(wm_connect(NULL, 0, &p), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_connect("/tmp/wm-\xff.sock", 0, &p), WM_ERR_INVALID_ARG);
  CHECK_STATUS(wm_listener_accept(NULL, 0, &p), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_listener_fd(NULL, &fd), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_listener_close(NULL), WM_ERR_NULL_ARG);
  CHECK_OK(wm_listener_free(NULL));

  char path[128];
  temp_path(path, sizeof path, "freed");
  CHECK_OK(wm_listen(path, &l));
  CHECK_STATUS(wm_listener_accept(l, 0, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_listener_fd(l, NULL), WM_ERR_NULL_ARG);
  CHECK_OK(wm_listener_free(l));
  CHECK_STATUS(wm_listener_accept(l, 0, &p), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_listener_fd(l, &fd), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_listener_close(l), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_listener_free(l), WM_ERR_INVALID_HANDLE);
  /* A port handle is not a listener handle. */
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_STATUS(wm_listener_accept((wm_listener *)a, 0, &p), WM_ERR_INVALID_HANDLE);
  CHECK_OK(wm_port_free(a));
  CHECK_OK(wm_port_free(b));

  int pid = 5;
  CHECK_STATUS(wm_spawn(NULL, NULL, &pid, &p), WM_ERR_NULL_ARG);
  CHECK(pid == -1 && p == NULL);
  const char *empty[] = {NULL};
  CHECK_STATUS(wm_spawn(empty, NULL, &pid, &p), WM_ERR_INVALID_ARG);
  const char *missing[] = {"wm-no-such-program-here", NULL};
  CHECK_STATUS(wm_spawn(missing, NULL, &pid, &p), WM_ERR_NOT_FOUND);
  const char *not_executable[] = {"/etc/passwd", NULL};
  CHECK_STATUS(wm_spawn(not_executable, NULL, &pid, &p), WM_ERR_PERMISSION);
  const char *ok_argv[] = {"true", NULL};
  const char *bad_env[] = {"NO_EQUALS_SIGN", NULL};
  CHECK_STATUS(wm_spawn(ok_argv, bad_env, &pid, &p), WM_ERR_INVALID_ARG);
  CHECK_STATUS(wm_spawn(ok_argv, NULL, NULL, &p), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_spawn(ok_argv, NULL, &pid, NULL), WM_ERR_NULL_ARG);

  /* A variable that names no usable socket is an error (and is removed all the same); a
   * descriptor it names that is not a socket stays open. */
  setenv("WEBMESSAGING_PORT_FD", "not-a-number", 1);
  CHECK_STATUS(wm_parent_port(&p), WM_ERR_IO);
  CHECK(getenv("WEBMESSAGING_PORT_FD") == NULL);
  REQUIRE(pipe(pipefd) == 0);
  char num[16];
  snprintf(num, sizeof num, "%d", pipefd[0]);
  setenv("WEBMESSAGING_PORT_FD", num, 1);
  CHECK_STATUS(wm_parent_port(&p), WM_ERR_IO);
  CHECK(p == NULL && fcntl(pipefd[0], F_GETFD) != -1);
  close(pipefd[0]);
  close(pipefd[1]);
  /* This process was not given a port. */
  CHECK_STATUS(wm_parent_port(&p), WM_ERR_NOT_FOUND);
  CHECK(p == NULL);
  CHECK_STATUS(wm_parent_port(NULL), WM_ERR_NULL_ARG);

  CHECK_STR(wm_status_str(WM_ERR_ADDRESS_IN_USE), "WM_ERR_ADDRESS_IN_USE");
  CHECK_STR(wm_status_str(WM_ERR_PROTOCOL), "WM_ERR_PROTOCOL");
}

/* A socket that does not speak the protocol costs only the port imported from it: garbage and
 * then EOF end it with a close notice (never a hang or a crash), and other ports keep working. */
static void a_broken_peer_costs_only_its_port(void) {
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  wm_port *broken = NULL;
  CHECK_OK(wm_port_import_fd(sv[0], &broken));
  REQUIRE(broken != NULL);
  static const char garbage[] = "\xff\xff\xff\x7fthis is not a frame at all";
  CHECK(write(sv[1], garbage, sizeof garbage) == (ssize_t)sizeof garbage);
  wm_message *m = NULL;
  CHECK_STATUS(wm_port_recv(broken, LONG_MS, &m), WM_ERR_CLOSED);
  close(sv[1]);
  /* The rest of the transport is fine: a healthy exported port still round-trips. */
  wm_port *a, *b, *b2 = NULL;
  CHECK_OK(wm_channel_new(&a, &b));
  int fd = -1;
  CHECK_OK(wm_port_export_fd(b, &fd));
  CHECK_OK(wm_port_import_fd(fd, &b2));
  CHECK_OK(wm_port_post_json(a, "\"still fine\""));
  check_next_json(b2, "\"still fine\"");
  CHECK_OK(wm_flush(LONG_MS));
  CHECK_OK(wm_port_free(broken));
  CHECK_OK(wm_port_free(a));
  CHECK_OK(wm_port_free(b));
  CHECK_OK(wm_port_free(b2));
}

/* Out of descriptors is a named error that loses nothing: the port can be exported once some
 * are free again. */
static void out_of_descriptors_is_named(void) {
  const char *scale = getenv("WM_TEST_SCALE");
  if (scale != NULL && strcmp(scale, "valgrind") == 0) {
    return; /* valgrind keeps descriptors of its own and emulates the limit: plain and ASan runs */
  }
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  struct rlimit old, low;
  REQUIRE(getrlimit(RLIMIT_NOFILE, &old) == 0);
  low = old;
  low.rlim_cur = 256;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
  int fds[256], n = 0;
  while (n < 256 && (fds[n] = dup(0)) >= 0) n++;
  int fd = -1;
  CHECK_STATUS(wm_port_export_fd(b, &fd), WM_ERR_DESCRIPTORS);
  CHECK(fd == -1);
  while (n > 0) close(fds[--n]);
  REQUIRE(setrlimit(RLIMIT_NOFILE, &old) == 0);
  wm_port_state state;
  CHECK_OK(wm_port_get_state(b, &state));
  CHECK(!state.detached);
  CHECK_OK(wm_port_post_json(a, "\"kept\""));
  CHECK_OK(wm_port_export_fd(b, &fd));
  wm_port *b2 = NULL;
  CHECK_OK(wm_port_import_fd(fd, &b2));
  check_next_json(b2, "\"kept\"");
  CHECK_OK(wm_port_free(a));
  CHECK_OK(wm_port_free(b));
  CHECK_OK(wm_port_free(b2));
}

/* A port goes to another process inside a message and comes back from it, while its peer
 * here keeps posting; the relay exits right after passing it on. Nothing is lost or reordered,
 * and the channel keeps working both ways with the relay gone. */
static void a_port_crosses_and_returns_through_a_relay_that_exits(void) {
  int pid;
  wm_port *p, *a, *b;
  CHECK_OK(spawn_child("relay", "", &pid, &p));
  REQUIRE(p != NULL);
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_port_post_json(a, "{\"seq\":1}")); /* backlog that travels with b */
  CHECK_OK(wm_port_post_json_transfer(p, "{\"take\":true}", &b, 1));
  const int n = scaled(2000);
  for (int i = 2; i <= n; i++) { /* sent while b is away */
    char text[32];
    snprintf(text, sizeof text, "{\"seq\":%d}", i);
    CHECK_OK(wm_port_post_json(a, text));
  }
  wm_message *m = NULL;
  CHECK_OK(wm_port_recv(p, LONG_MS, &m));
  wm_port *back = NULL;
  CHECK_OK(wm_message_take_port(m, 0, &back));
  wm_message_free(m);
  CHECK(exited_ok(wait_child(pid, LONG_MS)));
  REQUIRE(back != NULL);
  for (int i = 1; i <= n; i++) {
    char want[32];
    snprintf(want, sizeof want, "{\"seq\":%d}", i);
    char *got = recv_json(back);
    if (got == NULL || strcmp(got, want) != 0) {
      fprintf(stderr, "  message %d: got %s\n", i, got ? got : "(nothing)");
      harness_failed_checks++;
      wm_string_free(got);
      break;
    }
    wm_string_free(got);
  }
  CHECK_OK(wm_port_post_json(back, "\"and back\""));
  check_next_json(a, "\"and back\"");
  CHECK_OK(wm_port_close(back));
  CHECK_STATUS(wm_port_recv(a, LONG_MS, &m), WM_ERR_CLOSED);
  CHECK_STATUS(wm_port_recv(p, LONG_MS, &m), WM_ERR_CLOSED); /* the relay and its end are gone */
  CHECK_OK(wm_port_free(a));
  CHECK_OK(wm_port_free(b));
  CHECK_OK(wm_port_free(back));
  CHECK_OK(wm_port_free(p));
}

/* A spawned child with an environment of our making still gets its port (and nothing else). */
static void spawn_with_an_explicit_environment(void) {
  const char *argv[] = {self_path, "child", "send", "3", NULL};
  const char *envp[] = {"WM_TEST_MARK=1", NULL};
  int pid;
  wm_port *p;
  CHECK_OK(wm_spawn(argv, envp, &pid, &p));
  REQUIRE(p != NULL);
  check_next_json(p, "{\"seq\":1}");
  check_next_json(p, "{\"seq\":2}");
  check_next_json(p, "{\"seq\":3}");
  wm_message *m = NULL;
  CHECK_STATUS(wm_port_recv(p, LONG_MS, &m), WM_ERR_CLOSED);
  CHECK(exited_ok(wait_child(pid, LONG_MS)));
  CHECK_OK(wm_port_free(p));
}

int main(int argc, char **argv) {
  self_path = argv[0];
  if (argc >= 2 && strcmp(argv[1], "child") == 0) return child_main(argc, argv);
  RUN(misuse_is_named);
  RUN(export_and_import_in_one_process);
  RUN(export_drops_the_loop_registration);
  RUN(a_broken_peer_costs_only_its_port);
  RUN(out_of_descriptors_is_named);
  RUN(spawn_exchanges_values_both_ways);
  RUN(spawn_with_an_explicit_environment);
  RUN(n_messages_then_close_notice);
  RUN(a_port_crosses_and_returns_through_a_relay_that_exits);
  RUN(sigkill_delivers_what_was_written_then_lost);
  RUN(listen_accepts_two_clients);
  RUN(listener_on_a_loop);
  RUN(close_wakes_a_blocked_accept);
  RUN(listen_and_connect_errors_are_named);
  return harness_finish("test_ipc");
}
