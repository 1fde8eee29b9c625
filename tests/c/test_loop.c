/* The event loop: pollable descriptor, dispatch on the caller's thread, per-port order, batch
 * budget, onclose, finalizers, and callbacks that call back in (post, close, free, detach). */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>

#include "harness.h"

typedef struct {
  int messages;
  int closes;
  int finalized;
  int in_callback;
  int finalized_during_callback;
  char log[512];
  wm_close_reason reason;
  bool by_peer;
  /* What the message callback should do to its port or loop. */
  int free_port_at, close_port_at, detach_at, free_loop_at, post_back_at, dispatch_at;
  wm_loop *loop;
  wm_port *taken;
  wm_status nested_dispatch;
} rec;

static void on_message(void *userdata, wm_port *port, wm_message *msg) {
  rec *r = userdata;
  r->in_callback = 1;
  r->messages++;
  char *json = NULL;
  if (wm_message_to_json(msg, &json) == WM_OK) {
    strncat(r->log, json, sizeof r->log - strlen(r->log) - 2);
    strcat(r->log, ";");
    wm_string_free(json);
  }
  size_t n = 0;
  wm_message_port_count(msg, &n);
  if (n > 0 && r->taken == NULL) wm_message_take_port(msg, 0, &r->taken);
  if (r->messages == r->post_back_at) CHECK_OK(wm_port_post_json(port, "\"echo\""));
  if (r->messages == r->close_port_at) CHECK_OK(wm_port_close(port));
  if (r->messages == r->detach_at) CHECK_OK(wm_loop_detach(r->loop, port));
  if (r->messages == r->dispatch_at) r->nested_dispatch = wm_loop_dispatch(r->loop, 0, NULL);
  if (r->messages == r->free_port_at) {
    CHECK_OK(wm_port_free(port));
    CHECK(!r->finalized); /* deferred until this callback returns */
  }
  if (r->messages == r->free_loop_at) CHECK_OK(wm_loop_free(r->loop));
  r->in_callback = 0;
}

static void on_close(void *userdata, wm_port *port, wm_close_reason reason, bool by_peer) {
  rec *r = userdata;
  (void)port;
  r->closes++;
  r->reason = reason;
  r->by_peer = by_peer;
  strncat(r->log, "close;", sizeof r->log - strlen(r->log) - 1);
}

static void finalize(void *userdata) {
  rec *r = userdata;
  if (r->in_callback) r->finalized_during_callback = 1;
  r->finalized++;
}

static int readable(wm_loop *loop) {
  int fd = -1;
  CHECK_OK(wm_loop_fd(loop, &fd));
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static size_t dispatch(wm_loop *loop, size_t budget) {
  size_t n = 99;
  CHECK_OK(wm_loop_dispatch(loop, budget, &n));
  return n;
}

static void fd_becomes_readable_and_dispatch_runs_callbacks_in_order(void) {
  wm_loop *loop;
  wm_port *a, *b;
  rec r = {0};
  CHECK_OK(wm_loop_new(&loop));
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK(!readable(loop));
  CHECK_STATUS(wm_loop_wait(loop, 10), WM_ERR_TIMEOUT);
  CHECK_OK(wm_loop_attach(loop, b, on_message, on_close, &r, finalize));
  CHECK(!readable(loop));
  CHECK_OK(wm_port_post_json(a, "1"));
  CHECK_OK(wm_port_post_json(a, "2"));
  CHECK(readable(loop));
  CHECK_OK(wm_loop_wait(loop, 1000));
  CHECK(r.messages == 0); /* callbacks only run in dispatch */
  CHECK(dispatch(loop, 0) == 2);
  CHECK_STR(r.log, "1;2;");
  CHECK(!readable(loop));
  CHECK(dispatch(loop, 0) == 0);
  CHECK(r.finalized == 0);
  CHECK_OK(wm_port_free(b)); /* detaches: finalizer runs now */
  CHECK(r.finalized == 1);
  CHECK_OK(wm_port_free(a));
  CHECK_OK(wm_loop_free(loop));
  CHECK(r.finalized == 1);
}

static void r_ch_5_attach_starts_the_port_and_delivers_backlog(void) {
  wm_loop *loop;
  wm_port *a, *b;
  rec r = {0};
  CHECK_OK(wm_loop_new(&loop));
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_port_post_json(a, "\"early\""));
  CHECK(!readable(loop));
  CHECK_OK(wm_loop_attach(loop, b, on_message, NULL, &r, NULL));
  wm_port_state st;
  CHECK_OK(wm_port_get_state(b, &st));
  CHECK(st.started);
  CHECK(readable(loop));
  CHECK(dispatch(loop, 0) == 1);
  CHECK_STR(r.log, "\"early\";");
  wm_port_free(a);
  wm_port_free(b);
  wm_loop_free(loop);
}

static void onclose_after_every_message_then_finalizer(void) {
  wm_loop *loop;
  wm_port *a, *b;
  rec r = {0};
  CHECK_OK(wm_loop_new(&loop));
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_loop_attach(loop, b, on_message, on_close, &r, finalize));
  CHECK_OK(wm_port_post_json(a, "\"a\""));
  CHECK_OK(wm_port_post_json(a, "\"b\""));
  CHECK_OK(wm_port_close(a));
  CHECK(dispatch(loop, 0) == 3);
  CHECK_STR(r.log, "\"a\";\"b\";close;");
  CHECK(r.closes == 1 && r.reason == WM_CLOSE_CLOSED && r.by_peer);
  CHECK(r.finalized == 1 && !r.finalized_during_callback);
  CHECK(!readable(loop));
  /* The handle is still valid after the close notice; freeing it does not finalize again. */
  CHECK_OK(wm_port_free(b));
  CHECK(r.finalized == 1);
  wm_port_free(a);
  wm_loop_free(loop);
}

static void dropped_peer_gives_dropped_reason(void) {
  wm_loop *loop;
  wm_port *a, *b;
  rec r = {0};
  CHECK_OK(wm_loop_new(&loop));
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_loop_attach(loop, b, NULL, on_close, &r, finalize));
  CHECK_OK(wm_port_free(a));
  CHECK_OK(wm_loop_wait(loop, 1000));
  CHECK(dispatch(loop, 0) == 1);
  CHECK(r.closes == 1 && r.reason == WM_CLOSE_DROPPED && r.by_peer);
  wm_port_free(b);
  wm_loop_free(loop);
  CHECK(r.finalized == 1);
}

static void batch_budget_leaves_the_rest_ready(void) {
  wm_loop *loop;
  wm_port *a, *b;
  rec r = {0};
  CHECK_OK(wm_loop_new(&loop));
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_loop_attach(loop, b, on_message, NULL, &r, NULL));
  for (int i = 0; i < 10; i++) CHECK_OK(wm_port_post_json(a, "0"));
  CHECK(dispatch(loop, 3) == 3);
  CHECK(readable(loop));
  CHECK(dispatch(loop, 3) == 3);
  CHECK(dispatch(loop, 100) == 4);
  CHECK(!readable(loop));
  CHECK(r.messages == 10);
  /* More than one port quantum (64) from one port is still delivered in one dispatch. */
  for (int i = 0; i < 150; i++) CHECK_OK(wm_port_post_json(a, "0"));
  CHECK(dispatch(loop, 0) == 150);
  wm_port_free(a);
  wm_port_free(b);
  wm_loop_free(loop);
}

static void ports_take_turns_and_each_keeps_its_order(void) {
  wm_loop *loop;
  wm_port *a1, *b1, *a2, *b2;
  rec r1 = {0}, r2 = {0};
  CHECK_OK(wm_loop_new(&loop));
  CHECK_OK(wm_channel_new(&a1, &b1));
  CHECK_OK(wm_channel_new(&a2, &b2));
  CHECK_OK(wm_loop_attach(loop, b1, on_message, NULL, &r1, NULL));
  CHECK_OK(wm_loop_attach(loop, b2, on_message, NULL, &r2, NULL));
  for (int i = 0; i < 5; i++) {
    char buf[16];
    snprintf(buf, sizeof buf, "%d", i);
    CHECK_OK(wm_port_post_json(a1, buf));
    CHECK_OK(wm_port_post_json(a2, buf));
  }
  CHECK(dispatch(loop, 0) == 10);
  CHECK_STR(r1.log, "0;1;2;3;4;");
  CHECK_STR(r2.log, "0;1;2;3;4;");
  wm_port_free(a1);
  wm_port_free(b1);
  wm_port_free(a2);
  wm_port_free(b2);
  wm_loop_free(loop);
}

static void callback_frees_its_own_port(void) {
  wm_loop *loop;
  wm_port *a, *b;
  rec r = {0};
  r.free_port_at = 2;
  CHECK_OK(wm_loop_new(&loop));
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_loop_attach(loop, b, on_message, on_close, &r, finalize));
  for (int i = 0; i < 5; i++) CHECK_OK(wm_port_post_json(a, "7"));
  CHECK(dispatch(loop, 0) == 2);
  CHECK(r.messages == 2 && r.closes == 0);
  CHECK(r.finalized == 1 && !r.finalized_during_callback);
  CHECK_STATUS(wm_port_free(b), WM_ERR_INVALID_HANDLE);
  /* The peer sees the drop. */
  wm_message *m;
  CHECK_STATUS(wm_port_recv(a, 1000, &m), WM_ERR_CLOSED);
  wm_port_free(a);
  wm_loop_free(loop);
}

static void r_ch_21_callback_closes_its_own_port(void) {
  wm_loop *loop;
  wm_port *a, *b;
  rec r = {0};
  r.close_port_at = 1;
  CHECK_OK(wm_loop_new(&loop));
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_loop_attach(loop, b, on_message, on_close, &r, finalize));
  CHECK_OK(wm_port_post_json(a, "1"));
  CHECK_OK(wm_port_post_json(a, "2"));
  CHECK(dispatch(loop, 0) == 3);
  /* Closing inside onmessage does not cancel what was already queued; then our own notice. */
  CHECK_STR(r.log, "1;2;close;");
  CHECK(r.reason == WM_CLOSE_CLOSED && !r.by_peer);
  CHECK(r.finalized == 1);
  wm_port_free(a);
  wm_port_free(b);
  wm_loop_free(loop);
}

static void callback_posts_back_and_cannot_dispatch_recursively(void) {
  wm_loop *loop;
  wm_port *a, *b;
  rec r = {0};
  r.post_back_at = 1;
  r.dispatch_at = 1;
  CHECK_OK(wm_loop_new(&loop));
  r.loop = loop;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_loop_attach(loop, b, on_message, NULL, &r, NULL));
  CHECK_OK(wm_port_post_json(a, "1"));
  CHECK(dispatch(loop, 0) == 1);
  CHECK(r.nested_dispatch == WM_ERR_INVALID_STATE);
  char *json = NULL;
  wm_message *m;
  CHECK_OK(wm_port_try_recv(a, &m));
  CHECK_OK(wm_message_to_json(m, &json));
  CHECK_STR(json, "\"echo\"");
  wm_string_free(json);
  wm_message_free(m);
  wm_port_free(a);
  wm_port_free(b);
  wm_loop_free(loop);
}

static void detach_and_reattach_run_finalizers(void) {
  wm_loop *loop;
  wm_port *a, *b;
  rec r1 = {0}, r2 = {0};
  CHECK_OK(wm_loop_new(&loop));
  r1.loop = loop;
  r1.detach_at = 1;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_loop_attach(loop, b, on_message, NULL, &r1, finalize));
  CHECK_OK(wm_port_post_json(a, "1"));
  CHECK_OK(wm_port_post_json(a, "2"));
  CHECK(dispatch(loop, 0) == 1); /* detached inside its first callback */
  CHECK(r1.finalized == 1 && !r1.finalized_during_callback);
  /* The second message waits for a pull or a new attach. */
  CHECK_OK(wm_loop_attach(loop, b, on_message, NULL, &r2, finalize));
  CHECK(dispatch(loop, 0) == 1);
  CHECK_STR(r2.log, "2;");
  /* Attaching again replaces the registration: the old finalizer runs. */
  CHECK_OK(wm_loop_attach(loop, b, on_message, NULL, &r1, finalize));
  CHECK(r2.finalized == 1);
  CHECK_OK(wm_loop_detach(loop, b));
  CHECK(r1.finalized == 2);
  CHECK_OK(wm_loop_detach(loop, b)); /* not attached: nothing */
  CHECK_OK(wm_port_post_json(a, "3"));
  CHECK(dispatch(loop, 0) == 0);
  wm_message *m;
  CHECK_OK(wm_port_try_recv(b, &m));
  wm_message_free(m);
  wm_port_free(a);
  wm_port_free(b);
  wm_loop_free(loop);
}

static void transferring_an_attached_port_ends_its_registration(void) {
  wm_loop *loop;
  wm_port *a, *b, *x, *y;
  rec r = {0}, rx = {0};
  CHECK_OK(wm_loop_new(&loop));
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_channel_new(&x, &y));
  CHECK_OK(wm_loop_attach(loop, y, on_message, NULL, &r, finalize));
  wm_port *t[1] = {y};
  CHECK_OK(wm_port_post(a, NULL, t, 1));
  CHECK(r.finalized == 1);
  /* The receiver takes the port inside a callback and attaches it to the same loop. */
  CHECK_OK(wm_loop_attach(loop, b, on_message, NULL, &rx, finalize));
  CHECK(dispatch(loop, 0) == 1);
  REQUIRE(rx.taken != NULL);
  rec rt = {0};
  CHECK_OK(wm_loop_attach(loop, rx.taken, on_message, NULL, &rt, finalize));
  CHECK_OK(wm_port_post_json(x, "\"to the moved port\""));
  CHECK(dispatch(loop, 0) == 1);
  CHECK_STR(rt.log, "\"to the moved port\";");
  CHECK(r.messages == 0);
  wm_port_free(rx.taken);
  CHECK(rt.finalized == 1);
  wm_port_free(a);
  wm_port_free(b);
  wm_port_free(x);
  wm_port_free(y);
  wm_loop_free(loop);
  CHECK(rx.finalized == 1);
}

static void freeing_the_loop_detaches_everything(void) {
  wm_loop *loop;
  wm_port *a, *b, *c, *d;
  rec r1 = {0}, r2 = {0};
  CHECK_OK(wm_loop_new(&loop));
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_channel_new(&c, &d));
  CHECK_OK(wm_loop_attach(loop, b, on_message, NULL, &r1, finalize));
  CHECK_OK(wm_loop_attach(loop, d, on_message, NULL, &r2, finalize));
  CHECK_OK(wm_port_post_json(a, "1"));
  CHECK_OK(wm_loop_free(loop));
  CHECK(r1.finalized == 1 && r2.finalized == 1);
  CHECK_STATUS(wm_loop_free(loop), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_loop_dispatch(loop, 0, NULL), WM_ERR_INVALID_HANDLE);
  /* The ports still work. */
  wm_message *m;
  CHECK_OK(wm_port_try_recv(b, &m));
  wm_message_free(m);
  wm_port_free(a);
  wm_port_free(b);
  wm_port_free(c);
  wm_port_free(d);
}

static void callback_frees_the_loop(void) {
  wm_loop *loop;
  wm_port *a, *b;
  rec r = {0};
  r.free_loop_at = 1;
  CHECK_OK(wm_loop_new(&loop));
  r.loop = loop;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_loop_attach(loop, b, on_message, NULL, &r, finalize));
  CHECK_OK(wm_port_post_json(a, "1"));
  CHECK_OK(wm_port_post_json(a, "2"));
  CHECK(dispatch(loop, 0) == 1);
  CHECK(r.finalized == 1 && !r.finalized_during_callback);
  wm_port_free(a);
  wm_port_free(b);
}

static void loop_null_and_stale_arguments(void) {
  wm_loop *loop;
  wm_port *a, *b;
  int fd;
  CHECK_STATUS(wm_loop_new(NULL), WM_ERR_NULL_ARG);
  CHECK_OK(wm_loop_new(&loop));
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_STATUS(wm_loop_fd(NULL, &fd), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_loop_fd(loop, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_loop_attach(NULL, b, NULL, NULL, NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_loop_attach(loop, NULL, NULL, NULL, NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_loop_attach(loop, (wm_port *)loop, NULL, NULL, NULL, NULL), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_loop_detach(NULL, b), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_loop_detach(loop, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_loop_dispatch(NULL, 0, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_loop_wait(NULL, 0), WM_ERR_NULL_ARG);
  CHECK_OK(wm_loop_free(NULL));
  /* A failed attach never calls the finalizer. */
  rec r = {0};
  CHECK_STATUS(wm_loop_attach((wm_loop *)a, b, NULL, NULL, &r, finalize), WM_ERR_INVALID_HANDLE);
  CHECK(r.finalized == 0);
  wm_port_free(a);
  wm_port_free(b);
  wm_loop_free(loop);
}

int main(void) {
  RUN(fd_becomes_readable_and_dispatch_runs_callbacks_in_order);
  RUN(r_ch_5_attach_starts_the_port_and_delivers_backlog);
  RUN(onclose_after_every_message_then_finalizer);
  RUN(dropped_peer_gives_dropped_reason);
  RUN(batch_budget_leaves_the_rest_ready);
  RUN(ports_take_turns_and_each_keeps_its_order);
  RUN(callback_frees_its_own_port);
  RUN(r_ch_21_callback_closes_its_own_port);
  RUN(callback_posts_back_and_cannot_dispatch_recursively);
  RUN(detach_and_reattach_run_finalizers);
  RUN(transferring_an_attached_port_ends_its_registration);
  RUN(freeing_the_loop_detaches_everything);
  RUN(callback_frees_the_loop);
  RUN(loop_null_and_stale_arguments);
  return harness_finish("test_loop");
}
