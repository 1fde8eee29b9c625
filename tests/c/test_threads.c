/* Threads: ports handed across threads, 4 threads posting while a fifth closes, a handle freed
 * while other threads use it (and its slot reused), blocking receives woken by close. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "harness.h"

/* Spin-waits yield: valgrind runs one thread at a time, and a thread spinning without a yield
 * can starve the very thread it waits for. */
#define SPIN_UNTIL(cond) \
  while (!(cond)) sched_yield()

/* ---- a port transferred to another thread through a channel ---- */

typedef struct {
  wm_port *inbox; /* receives a message carrying a port */
  int replies;
} worker_arg;

static void *worker(void *p) {
  worker_arg *w = p;
  wm_message *m;
  if (wm_port_recv(w->inbox, 10000, &m) != WM_OK) return NULL;
  wm_port *port = NULL;
  wm_message_take_port(m, 0, &port);
  wm_message_free(m);
  /* Serve the received port until its channel closes. */
  for (;;) {
    if (wm_port_recv(port, 10000, &m) != WM_OK) break;
    char *json = NULL;
    if (wm_message_to_json(m, &json) == WM_OK) {
      char reply[64];
      snprintf(reply, sizeof reply, "[\"re\",%s]", json);
      wm_port_post_json(port, reply);
      w->replies++;
      wm_string_free(json);
    }
    wm_message_free(m);
  }
  wm_port_free(port);
  return NULL;
}

static void port_transferred_across_threads(void) {
  wm_port *ctl_a, *ctl_b, *mine, *theirs;
  CHECK_OK(wm_channel_new(&ctl_a, &ctl_b));
  CHECK_OK(wm_channel_new(&mine, &theirs));
  /* Queue work before the port moves: the backlog travels with it. */
  CHECK_OK(wm_port_post_json(mine, "1"));
  worker_arg w = {.inbox = ctl_b};
  pthread_t t;
  REQUIRE(pthread_create(&t, NULL, worker, &w) == 0);
  wm_port *transfer[1] = {theirs};
  CHECK_OK(wm_port_post_json_transfer(ctl_a, "\"here is a port\"", transfer, 1));
  CHECK_OK(wm_port_post_json(mine, "2"));
  const char *want[] = {"[\"re\",1]", "[\"re\",2]"};
  for (int i = 0; i < 2; i++) {
    wm_message *m;
    CHECK_OK(wm_port_recv(mine, 10000, &m));
    char *json = NULL;
    CHECK_OK(wm_message_to_json(m, &json));
    CHECK_STR(json, want[i]);
    wm_string_free(json);
    wm_message_free(m);
  }
  CHECK_OK(wm_port_close(mine));
  pthread_join(t, NULL);
  CHECK(w.replies == 2);
  wm_port_free(mine);
  wm_port_free(theirs);
  wm_port_free(ctl_a);
  wm_port_free(ctl_b);
}

/* ---- 4 threads posting while a fifth closes ---- */

enum { POSTERS = 4 };

typedef struct {
  wm_port *port;
  int id;
  int count;
  atomic_int *go;
  int failures;
} poster_arg;

static void *poster(void *p) {
  poster_arg *a = p;
  SPIN_UNTIL(atomic_load(a->go));
  for (int i = 0; i < a->count; i++) {
    char buf[32];
    snprintf(buf, sizeof buf, "[%d,%d]", a->id, i);
    /* Posting on a port closed meanwhile is not an error: the message is dropped. */
    if (wm_port_post_json(a->port, buf) != WM_OK) a->failures++;
  }
  return NULL;
}

typedef struct {
  wm_port *port;
  atomic_int *go;
  int after_us;
} closer_arg;

static void *closer(void *p) {
  closer_arg *c = p;
  SPIN_UNTIL(atomic_load(c->go));
  for (volatile int spin = 0; spin < c->after_us * 100; spin++) {
  }
  wm_port_close(c->port);
  return NULL;
}

static void four_threads_post_while_a_fifth_closes(void) {
  int rounds = scaled(20), per_thread = scaled(2000);
  for (int round = 0; round < rounds; round++) {
    wm_port *a, *b;
    CHECK_OK(wm_channel_new(&a, &b));
    atomic_int go = 0;
    pthread_t th[POSTERS + 1];
    poster_arg pa[POSTERS];
    for (int i = 0; i < POSTERS; i++) {
      pa[i] = (poster_arg){.port = a, .id = i, .count = per_thread, .go = &go};
      REQUIRE(pthread_create(&th[i], NULL, poster, &pa[i]) == 0);
    }
    closer_arg ca = {.port = a, .go = &go, .after_us = round * 50};
    REQUIRE(pthread_create(&th[POSTERS], NULL, closer, &ca) == 0);
    atomic_store(&go, 1);
    /* Receive concurrently: each thread's messages must arrive as a gap-free prefix, in order,
     * then exactly one close notice. */
    int next[POSTERS] = {0};
    int bad = 0, total = 0;
    wm_status st;
    for (;;) {
      wm_message *m;
      st = wm_port_recv(b, 20000, &m);
      if (st != WM_OK) break;
      wm_value *v, *tid, *seq;
      double t = -1, s = -1;
      if (wm_message_value(m, &v) == WM_OK) {
        if (wm_value_array_get(v, 0, &tid) == WM_OK) {
          wm_value_get_number(tid, &t);
          wm_value_free(tid);
        }
        if (wm_value_array_get(v, 1, &seq) == WM_OK) {
          wm_value_get_number(seq, &s);
          wm_value_free(seq);
        }
        wm_value_free(v);
      }
      int ti = (int)t;
      if (ti < 0 || ti >= POSTERS || (int)s != next[ti]) bad++;
      else next[ti]++;
      total++;
      wm_message_free(m);
    }
    CHECK_STATUS(st, WM_ERR_CLOSED);
    for (int i = 0; i <= POSTERS; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < POSTERS; i++) CHECK(pa[i].failures == 0);
    CHECK(bad == 0);
    wm_port_metrics met;
    CHECK_OK(wm_port_get_metrics(a, &met));
    /* Every post was either delivered or counted as dropped. */
    CHECK(met.posted == (uint64_t)(POSTERS * per_thread));
    CHECK(met.posted - met.dropped == (uint64_t)total);
    wm_message *m;
    CHECK_STATUS(wm_port_try_recv(b, &m), WM_ERR_CLOSED);
    wm_port_free(a);
    wm_port_free(b);
    if (harness_failed_checks) break;
  }
}

/* ---- a handle freed while other threads use it ---- */

typedef struct {
  wm_port *port;
  atomic_int *started;
  int ok, invalid, other, ok_after_invalid;
} user_arg;

static void *user(void *p) {
  user_arg *u = p;
  /* Post until the handle goes invalid (the main thread frees it once every user posted), then
   * keep trying a little: a freed handle must stay invalid. */
  for (long i = 0; i < 50000000 && u->invalid < 100; i++) {
    wm_status s = wm_port_post_json(u->port, "0");
    if (s == WM_OK) {
      if (u->ok++ == 0) atomic_fetch_add(u->started, 1);
      if (u->invalid) u->ok_after_invalid++;
    } else if (s == WM_ERR_INVALID_HANDLE) {
      u->invalid++;
    } else {
      u->other++;
    }
  }
  return NULL;
}

static void handle_freed_while_other_threads_use_it(void) {
  int rounds = scaled(10);
  for (int round = 0; round < rounds; round++) {
    wm_port *a, *b;
    CHECK_OK(wm_channel_new(&a, &b));
    atomic_int started = 0;
    pthread_t th[POSTERS];
    user_arg ua[POSTERS];
    for (int i = 0; i < POSTERS; i++) {
      ua[i] = (user_arg){.port = a, .started = &started};
      REQUIRE(pthread_create(&th[i], NULL, user, &ua[i]) == 0);
    }
    SPIN_UNTIL(atomic_load(&started) >= POSTERS);
    CHECK_OK(wm_port_free(a));
    for (int i = 0; i < POSTERS; i++) {
      pthread_join(th[i], NULL);
      CHECK(ua[i].other == 0);
      CHECK(ua[i].ok_after_invalid == 0); /* once invalid, always invalid */
      CHECK(ua[i].invalid == 100);
    }
    /* The peer gets what was posted before the free, then the drop notice. */
    wm_message *m;
    int got = 0;
    while (wm_port_try_recv(b, &m) == WM_OK) {
      got++;
      wm_message_free(m);
    }
    int ok = 0;
    for (int i = 0; i < POSTERS; i++) ok += ua[i].ok;
    CHECK(got == ok);
    CHECK_STATUS(wm_port_recv(b, 5000, &m), WM_ERR_CLOSED);
    wm_port_free(b);
  }
}

/* ---- a freed port's slot, reused by new ports, never answers to the old handle ---- */

static const uint8_t WIRE_42[] = {0xff, 0x0f, 0x49, 0x54};

typedef struct {
  wm_port *stale; /* freed by the main thread while this thread uses it */
  atomic_int *started;
  int ok, invalid, other, ok_after_invalid;
} reuser_arg;

static void *reuser(void *p) {
  reuser_arg *u = p;
  /* The two fast paths: a post without a transfer list and a non-blocking receive. */
  for (long i = 0; i < 50000000 && u->invalid < 2000; i++) {
    wm_status s = (i & 1) ? wm_port_post_serialized(u->stale, WIRE_42, sizeof WIRE_42, NULL, 0)
                          : wm_port_try_recv(u->stale, &(wm_message *){NULL});
    if (s == WM_OK || s == WM_ERR_EMPTY) {
      if (u->ok++ == 0) atomic_fetch_add(u->started, 1);
      if (u->invalid) u->ok_after_invalid++;
    } else if (s == WM_ERR_INVALID_HANDLE) {
      u->invalid++;
    } else {
      u->other++;
    }
    if (u->invalid) sched_yield(); /* room for the main thread to make new ports */
  }
  return NULL;
}

static void freed_port_slot_reused_while_other_threads_use_the_old_handle(void) {
  int rounds = scaled(10);
  for (int round = 0; round < rounds; round++) {
    wm_port *a, *b;
    CHECK_OK(wm_channel_new(&a, &b));
    atomic_int started = 0;
    pthread_t th[2];
    reuser_arg ua[2];
    for (int i = 0; i < 2; i++) {
      ua[i] = (reuser_arg){.stale = b, .started = &started};
      REQUIRE(pthread_create(&th[i], NULL, reuser, &ua[i]) == 0);
    }
    SPIN_UNTIL(atomic_load(&started) >= 2);
    CHECK_OK(wm_port_free(b));
    CHECK_OK(wm_port_free(a));
    /* New channels take the freed slots (under new generations) while the old handle is in
     * use: nothing sent through the old handle may reach them, nothing queued there may be
     * taken through it. */
    enum { NEW = 8 };
    wm_port *c[NEW], *d[NEW];
    int reused = 0;
    for (int i = 0; i < NEW; i++) {
      CHECK_OK(wm_channel_new(&c[i], &d[i]));
      CHECK_OK(wm_port_post_serialized(d[i], WIRE_42, sizeof WIRE_42, NULL, 0));
      uintptr_t low = (uintptr_t)b & 0xFFFFFFFFu;
      reused += ((uintptr_t)c[i] & 0xFFFFFFFFu) == low || ((uintptr_t)d[i] & 0xFFFFFFFFu) == low;
    }
    CHECK(reused > 0);
    for (int i = 0; i < 2; i++) {
      pthread_join(th[i], NULL);
      CHECK(ua[i].other == 0);
      CHECK(ua[i].ok_after_invalid == 0); /* once invalid, always invalid */
      CHECK(ua[i].invalid == 2000);
    }
    for (int i = 0; i < NEW; i++) {
      wm_message *m;
      CHECK_STATUS(wm_port_try_recv(d[i], &m), WM_ERR_EMPTY); /* no post landed here */
      CHECK_OK(wm_port_try_recv(c[i], &m));                  /* its own message is still there */
      wm_message_free(m);
      CHECK_STATUS(wm_port_try_recv(c[i], &m), WM_ERR_EMPTY);
      wm_port_free(c[i]);
      wm_port_free(d[i]);
    }
  }
}

/* ---- a blocked receive is woken by close on another thread ---- */

static void *blocked_recv(void *p) {
  wm_port *port = p;
  wm_message *m;
  static wm_status result;
  result = wm_port_recv(port, -1, &m);
  return &result;
}

static void close_wakes_a_blocked_receiver(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  pthread_t t;
  REQUIRE(pthread_create(&t, NULL, blocked_recv, b) == 0);
  CHECK_OK(wm_port_close(a));
  void *res;
  pthread_join(t, &res);
  CHECK(*(wm_status *)res == WM_ERR_CLOSED);
  wm_port_free(a);
  wm_port_free(b);
}

/* ---- a loop dispatched on this thread while 4 threads post and a fifth closes ---- */

typedef struct {
  int next;   /* next expected sequence number */
  int bad;    /* out-of-order or malformed */
  int closed; /* onclose calls */
  int finalized;
} loop_rec;

static void loop_on_message(void *ud, wm_port *port, wm_message *m) {
  loop_rec *r = ud;
  (void)port;
  wm_value *v;
  double d = -1;
  if (wm_message_value(m, &v) == WM_OK) {
    wm_value_get_number(v, &d);
    wm_value_free(v);
  }
  if ((int)d != r->next) r->bad++;
  r->next++;
}

static void loop_on_close(void *ud, wm_port *port, wm_close_reason reason, bool by_peer) {
  loop_rec *r = ud;
  (void)port;
  (void)reason;
  (void)by_peer;
  r->closed++;
}

static void loop_finalize(void *ud) { ((loop_rec *)ud)->finalized++; }

typedef struct {
  wm_port *port;
  int count;
} seq_poster;

static void *post_sequence(void *p) {
  seq_poster *s = p;
  for (int i = 0; i < s->count; i++) {
    char buf[16];
    snprintf(buf, sizeof buf, "%d", i);
    if (wm_port_post_json(s->port, buf) != WM_OK) break;
  }
  wm_port_close(s->port);
  return NULL;
}

static void loop_dispatch_while_four_threads_post_and_a_fifth_closes(void) {
  int per_thread = scaled(3000);
  wm_loop *loop;
  CHECK_OK(wm_loop_new(&loop));
  wm_port *send[POSTERS], *recv[POSTERS];
  loop_rec recs[POSTERS];
  memset(recs, 0, sizeof recs);
  for (int i = 0; i < POSTERS; i++) {
    CHECK_OK(wm_channel_new(&send[i], &recv[i]));
    CHECK_OK(wm_loop_attach(loop, recv[i], loop_on_message, loop_on_close, &recs[i], loop_finalize));
  }
  /* One more port whose peer a fifth thread closes while the others post. */
  wm_port *victim_send, *victim_recv;
  loop_rec victim = {0};
  CHECK_OK(wm_channel_new(&victim_send, &victim_recv));
  CHECK_OK(wm_loop_attach(loop, victim_recv, loop_on_message, loop_on_close, &victim, loop_finalize));
  CHECK_OK(wm_port_post_json(victim_send, "0"));
  pthread_t th[POSTERS + 1];
  seq_poster sp[POSTERS];
  for (int i = 0; i < POSTERS; i++) {
    sp[i] = (seq_poster){send[i], per_thread};
    REQUIRE(pthread_create(&th[i], NULL, post_sequence, &sp[i]) == 0);
  }
  closer_arg ca = {.port = victim_send, .go = &(atomic_int){1}, .after_us = 10};
  REQUIRE(pthread_create(&th[POSTERS], NULL, closer, &ca) == 0);
  int open = POSTERS + 1, spins = 0;
  while (open > 0 && spins < 100000) {
    spins++;
    if (wm_loop_wait(loop, 5000) != WM_OK) break;
    size_t n;
    CHECK_OK(wm_loop_dispatch(loop, 100, &n));
    open = 0;
    for (int i = 0; i < POSTERS; i++) open += recs[i].closed == 0;
    open += victim.closed == 0;
  }
  for (int i = 0; i <= POSTERS; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < POSTERS; i++) {
    CHECK(recs[i].next == per_thread && recs[i].bad == 0);
    CHECK(recs[i].closed == 1 && recs[i].finalized == 1);
  }
  CHECK(victim.next == 1 && victim.closed == 1 && victim.finalized == 1);
  for (int i = 0; i < POSTERS; i++) {
    wm_port_free(send[i]);
    wm_port_free(recv[i]);
  }
  wm_port_free(victim_send);
  wm_port_free(victim_recv);
  CHECK_OK(wm_loop_free(loop));
}

/* ---- value graphs merged from several threads at once ---- */

typedef struct {
  wm_value *shared; /* one object every thread references */
  wm_value *root;   /* every thread's array goes in here */
  int failures;
} merge_arg;

static void *merge_worker(void *p) {
  merge_arg *a = p;
  wm_value *arr;
  if (wm_value_new_array(&arr) != WM_OK) {
    a->failures++;
    return NULL;
  }
  for (int i = 0; i < 100; i++) {
    if (wm_value_array_push(arr, a->shared) != WM_OK) a->failures++;
    wm_value *n;
    wm_value_new_number(i, &n);
    if (wm_value_object_set(a->shared, "last", n) != WM_OK) a->failures++;
    wm_value_free(n);
  }
  if (wm_value_array_push(a->root, arr) != WM_OK) a->failures++;
  wm_value_free(arr);
  return NULL;
}

static void value_graphs_merge_safely_across_threads(void) {
  wm_value *shared, *root;
  CHECK_OK(wm_value_new_object(&shared));
  CHECK_OK(wm_value_new_array(&root));
  pthread_t th[POSTERS];
  merge_arg args[POSTERS];
  for (int i = 0; i < POSTERS; i++) {
    args[i] = (merge_arg){shared, root, 0};
    REQUIRE(pthread_create(&th[i], NULL, merge_worker, &args[i]) == 0);
  }
  for (int i = 0; i < POSTERS; i++) {
    pthread_join(th[i], NULL);
    CHECK(args[i].failures == 0);
  }
  size_t n = 0;
  CHECK_OK(wm_value_length(root, &n));
  CHECK(n == POSTERS);
  for (size_t i = 0; i < n; i++) {
    wm_value *arr, *first, *last;
    CHECK_OK(wm_value_array_get(root, i, &arr));
    size_t len = 0;
    CHECK_OK(wm_value_length(arr, &len));
    CHECK(len == 100);
    CHECK_OK(wm_value_array_get(arr, 0, &first));
    CHECK_OK(wm_value_array_get(arr, 99, &last));
    bool same1 = false, same2 = false;
    CHECK_OK(wm_value_same(first, shared, &same1));
    CHECK_OK(wm_value_same(last, shared, &same2));
    CHECK(same1 && same2); /* every element is the one shared object */
    wm_value_free(arr);
    wm_value_free(first);
    wm_value_free(last);
  }
  wm_value_free(shared);
  wm_value_free(root);
}

/* ---- timeouts: < 0 waits without limit everywhere, 0 does not wait ---- */

static void *drain_one_later(void *p) {
  wm_port *b = p;
  struct timespec ts = {0, 50 * 1000 * 1000};
  nanosleep(&ts, NULL);
  wm_message *m = NULL;
  if (wm_port_try_recv(b, &m) == WM_OK) wm_message_free(m);
  return NULL;
}

static void negative_timeout_waits_without_limit_in_try_post_as_in_recv(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_port_set_capacity(b, 1, 0));
  CHECK_OK(wm_port_try_post(a, NULL, NULL, 0, 0));
  /* Full: 0 fails at once, a positive timeout runs out. */
  CHECK_STATUS(wm_port_try_post(a, NULL, NULL, 0, 0), WM_ERR_FULL);
  CHECK_STATUS(wm_port_try_post(a, NULL, NULL, 0, 5), WM_ERR_TIMEOUT);
  /* Negative: waits until another thread makes room, as wm_port_recv waits for a message. */
  pthread_t t;
  REQUIRE(pthread_create(&t, NULL, drain_one_later, b) == 0);
  CHECK_OK(wm_port_try_post(a, NULL, NULL, 0, -1));
  pthread_join(t, NULL);
  wm_port_metrics met;
  CHECK_OK(wm_port_get_metrics(b, &met));
  CHECK(met.enqueued == 2 && met.depth == 1);
  wm_port_free(a);
  wm_port_free(b);
}

int main(void) {
  RUN(port_transferred_across_threads);
  RUN(four_threads_post_while_a_fifth_closes);
  RUN(handle_freed_while_other_threads_use_it);
  RUN(freed_port_slot_reused_while_other_threads_use_the_old_handle);
  RUN(close_wakes_a_blocked_receiver);
  RUN(loop_dispatch_while_four_threads_post_and_a_fifth_closes);
  RUN(value_graphs_merge_safely_across_threads);
  RUN(negative_timeout_waits_without_limit_in_try_post_as_in_recv);
  return harness_finish("test_threads");
}
