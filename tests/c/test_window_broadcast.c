/* Windows (origin-checked postMessage) and BroadcastChannel through the C ABI, pull and loop. */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

static char *recv_json_window(wm_window *w, char **origin_out) {
  wm_message *m;
  if (wm_window_try_recv(w, &m) != WM_OK) return NULL;
  char *json = NULL;
  wm_message_to_json(m, &json);
  if (origin_out) {
    const char *o = NULL;
    wm_message_origin(m, &o);
    *origin_out = o ? strdup(o) : NULL;
  }
  wm_message_free(m);
  return json;
}

static void r_win_3_4_12_13_target_origin_and_reply_through_source(void) {
  wm_window *app, *widget;
  CHECK_OK(wm_window_new("https://app.test/index.html", &app));
  CHECK_OK(wm_window_new("https://widget.test", &widget));
  char *o = NULL;
  CHECK_OK(wm_window_get_origin(app, &o));
  CHECK_STR(o, "https://app.test");
  wm_string_free(o);
  /* R-WIN-6: path and query are ignored. */
  CHECK_OK(wm_window_post_json(widget, "\"hi\"", "https://widget.test/some/path?q", app));
  wm_message *m;
  CHECK_OK(wm_window_try_recv(widget, &m));
  const char *origin = NULL;
  CHECK_OK(wm_message_origin(m, &origin));
  CHECK_STR(origin, "https://app.test"); /* R-WIN-12: the sender's origin */
  wm_window *source = NULL;
  CHECK_OK(wm_message_source(m, &source)); /* R-WIN-13 */
  CHECK_OK(wm_window_post_json(source, "\"hello back\"", origin, widget));
  wm_message_free(m);
  char *from = NULL;
  char *json = recv_json_window(app, &from);
  CHECK_STR(json, "\"hello back\"");
  CHECK_STR(from, "https://widget.test");
  wm_string_free(json);
  free(from);
  /* R-WIN-3: "/" is the sender's origin, so app -> widget with "/" is dropped ... */
  CHECK_OK(wm_window_post_json(widget, "1", "/", app));
  CHECK_STATUS(wm_window_try_recv(widget, &m), WM_ERR_EMPTY);
  /* ... and R-WIN-19: a window posting to itself with "/" gets it. */
  CHECK_OK(wm_window_post_json(app, "2", "/", app));
  json = recv_json_window(app, NULL);
  CHECK_STR(json, "2");
  wm_string_free(json);
  /* R-WIN-4: "*" disables the check. */
  CHECK_OK(wm_window_post_json(widget, "3", "*", app));
  json = recv_json_window(widget, NULL);
  CHECK_STR(json, "3");
  wm_string_free(json);
  wm_window_free(source);
  wm_window_free(app);
  wm_window_free(widget);
}

static void r_win_5_bad_target_origin_is_syntax_error_before_serializing(void) {
  wm_window *a, *b;
  wm_port *p, *q;
  CHECK_OK(wm_window_new("https://a.test", &a));
  CHECK_OK(wm_window_new(NULL, &b)); /* opaque */
  CHECK_OK(wm_channel_new(&p, &q));
  wm_port *t[1] = {p};
  CHECK_STATUS(wm_window_post(b, NULL, "not a url", t, 1, a), WM_ERR_SYNTAX);
  wm_port_state st;
  CHECK_OK(wm_port_get_state(p, &st));
  CHECK(!st.detached); /* nothing transferred */
  CHECK_STATUS(wm_window_post_json(b, "{", "*", a), WM_ERR_SYNTAX);
  wm_window *bad = (wm_window *)1;
  CHECK_STATUS(wm_window_new("nope", &bad), WM_ERR_SYNTAX);
  CHECK(bad == NULL);
  char *o;
  CHECK_OK(wm_window_get_origin(b, &o));
  CHECK_STR(o, "null");
  wm_string_free(o);
  wm_port_free(p);
  wm_port_free(q);
  wm_window_free(a);
  wm_window_free(b);
}

static void r_win_8_11_14_checked_at_delivery_transfers_happen_anyway(void) {
  wm_window *a, *b;
  wm_port *p, *q;
  CHECK_OK(wm_window_new("https://a.test", &a));
  CHECK_OK(wm_window_new("https://b.test", &b));
  CHECK_OK(wm_channel_new(&p, &q));
  wm_port *t[1] = {p};
  CHECK_OK(wm_window_post(b, NULL, "https://b.test", t, 1, a));
  wm_port_state st;
  CHECK_OK(wm_port_get_state(p, &st));
  CHECK(st.detached); /* R-WIN-11 */
  /* R-WIN-8: b navigates before delivery; the check runs against its new origin. */
  CHECK_OK(wm_window_navigate(b, "https://elsewhere.test"));
  wm_message *m;
  CHECK_STATUS(wm_window_try_recv(b, &m), WM_ERR_EMPTY); /* R-WIN-9: silently dropped */
  CHECK_STATUS(wm_port_recv(q, 1000, &m), WM_ERR_CLOSED); /* its port went with it */
  /* Matching: the ports arrive in order (R-WIN-14). */
  wm_port *x, *y;
  CHECK_OK(wm_channel_new(&x, &y));
  t[0] = x;
  CHECK_OK(wm_window_post(b, NULL, "https://elsewhere.test", t, 1, a));
  CHECK_OK(wm_window_recv(b, 1000, &m));
  size_t n = 0;
  CHECK_OK(wm_message_port_count(m, &n));
  CHECK(n == 1);
  wm_message_free(m);
  wm_port *ports[] = {p, q, x, y};
  for (int i = 0; i < 4; i++) wm_port_free(ports[i]);
  wm_window_free(a);
  wm_window_free(b);
}

static void window_message_source_gone_and_null_args(void) {
  wm_window *a, *b;
  CHECK_OK(wm_window_new("https://a.test", &a));
  CHECK_OK(wm_window_new("https://b.test", &b));
  CHECK_OK(wm_window_post_json(b, "1", "*", a));
  CHECK_OK(wm_window_free(a));
  wm_message *m;
  CHECK_OK(wm_window_try_recv(b, &m));
  wm_window *src = (wm_window *)1;
  CHECK_STATUS(wm_message_source(m, &src), WM_ERR_NOT_FOUND);
  CHECK(src == NULL);
  wm_message_free(m);
  CHECK_STATUS(wm_window_recv(b, 10, &m), WM_ERR_TIMEOUT);
  CHECK_STATUS(wm_window_free(a), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_window_post_json(b, "1", "*", a), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_window_new(NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_window_get_origin(NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_window_navigate(NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_window_post(b, NULL, NULL, NULL, 0, b), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_window_post(b, NULL, "*", NULL, 0, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_window_post_json(NULL, "1", "*", b), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_window_try_recv(b, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_window_recv(NULL, 0, &m), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_window_attach(NULL, b, NULL, NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_window_detach(NULL, b), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_message_origin(NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_message_source(NULL, &src), WM_ERR_NULL_ARG);
  CHECK_OK(wm_window_free(NULL));
  /* A port message has origin "" and no source (R-CH-11). */
  wm_port *p, *q;
  CHECK_OK(wm_channel_new(&p, &q));
  CHECK_OK(wm_port_post_json(p, "1"));
  CHECK_OK(wm_port_try_recv(q, &m));
  const char *o = NULL;
  CHECK_OK(wm_message_origin(m, &o));
  CHECK_STR(o, "");
  CHECK_STATUS(wm_message_source(m, &src), WM_ERR_NOT_FOUND);
  wm_message_free(m);
  wm_port_free(p);
  wm_port_free(q);
  wm_window_free(b);
}

typedef struct {
  int messages, closes, finalized;
  char log[256];
} rec;

static void on_window_message(void *ud, wm_window *w, wm_message *m) {
  rec *r = ud;
  (void)w;
  char *json = NULL;
  if (wm_message_to_json(m, &json) == WM_OK) {
    strncat(r->log, json, sizeof r->log - strlen(r->log) - 2);
    strcat(r->log, ";");
    wm_string_free(json);
  }
  r->messages++;
}

static void on_bc_message(void *ud, wm_broadcast *c, wm_message *m) {
  (void)c;
  on_window_message(ud, NULL, m);
}

static void on_bc_close(void *ud, wm_broadcast *c) {
  rec *r = ud;
  (void)c;
  r->closes++;
  strcat(r->log, "close;");
}

static void fin(void *ud) { ((rec *)ud)->finalized++; }

static void windows_and_broadcast_channels_on_a_loop(void) {
  wm_loop *loop;
  wm_window *a, *b;
  wm_broadcast *c1, *c2;
  rec rw = {0}, rb = {0};
  CHECK_OK(wm_loop_new(&loop));
  CHECK_OK(wm_window_new("https://a.test", &a));
  CHECK_OK(wm_window_new("https://b.test", &b));
  CHECK_OK(wm_broadcast_new("news", "https://a.test", &c1));
  CHECK_OK(wm_broadcast_new("news", "https://a.test", &c2));
  CHECK_OK(wm_window_attach(loop, b, on_window_message, &rw, fin));
  CHECK_OK(wm_broadcast_attach(loop, c2, on_bc_message, on_bc_close, &rb, fin));
  CHECK_OK(wm_window_post_json(b, "\"w1\"", "https://b.test", a));
  CHECK_OK(wm_window_post_json(b, "\"dropped\"", "https://c.test", a));
  CHECK_OK(wm_window_post_json(b, "\"w2\"", "*", a));
  CHECK_OK(wm_broadcast_post_json(c1, "\"b1\""));
  CHECK_OK(wm_loop_wait(loop, 1000));
  size_t n = 0;
  CHECK_OK(wm_loop_dispatch(loop, 0, &n));
  CHECK(n == 3);
  CHECK_STR(rw.log, "\"w1\";\"w2\";");
  CHECK_STR(rb.log, "\"b1\";");
  CHECK_OK(wm_broadcast_close(c2));
  CHECK_OK(wm_loop_dispatch(loop, 0, &n));
  CHECK(rb.closes == 1 && rb.finalized == 1);
  CHECK_OK(wm_window_detach(loop, b));
  CHECK(rw.finalized == 1);
  CHECK_OK(wm_window_post_json(b, "\"w3\"", "*", a));
  CHECK_OK(wm_loop_dispatch(loop, 0, &n));
  CHECK(n == 0);
  CHECK_OK(wm_broadcast_detach(loop, c1));
  wm_window_free(a);
  wm_window_free(b);
  wm_broadcast_free(c1);
  wm_broadcast_free(c2);
  wm_loop_free(loop);
}

static void r_bc_3_4_5_6_7_broadcast_delivery_rules(void) {
  wm_broadcast *s, *r1, *r2, *other_name, *other_origin;
  CHECK_OK(wm_broadcast_new("chan", NULL, &s));
  CHECK_OK(wm_broadcast_new("chan", NULL, &r1));
  CHECK_OK(wm_broadcast_new("chan", NULL, &r2));
  CHECK_OK(wm_broadcast_new("Chan", NULL, &other_name));
  CHECK_OK(wm_broadcast_new("chan", "https://x.test", &other_origin));
  wm_value *v;
  CHECK_OK(wm_value_new_number(7, &v));
  CHECK_OK(wm_broadcast_post(s, v));
  wm_message *m;
  wm_broadcast *receivers[] = {r1, r2};
  for (int i = 0; i < 2; i++) {
    CHECK_OK(wm_broadcast_try_recv(receivers[i], &m));
    char *json;
    CHECK_OK(wm_message_to_json(m, &json));
    CHECK_STR(json, "7");
    wm_string_free(json);
    const char *o;
    CHECK_OK(wm_message_origin(m, &o));
    CHECK_STR(o, "null"); /* the default origin is opaque */
    wm_message_free(m);
  }
  CHECK_STATUS(wm_broadcast_try_recv(s, &m), WM_ERR_EMPTY);            /* R-BC-4 */
  CHECK_STATUS(wm_broadcast_try_recv(other_name, &m), WM_ERR_EMPTY);   /* R-BC-5 */
  CHECK_STATUS(wm_broadcast_try_recv(other_origin, &m), WM_ERR_EMPTY); /* R-BC-6 */
  /* R-BC-10: a MessagePort cannot be broadcast. */
  wm_port *p, *q;
  CHECK_OK(wm_channel_new(&p, &q));
  wm_value *pv;
  CHECK_OK(wm_value_new_port(p, &pv));
  CHECK_STATUS(wm_broadcast_post(s, pv), WM_ERR_DATA_CLONE);
  /* R-BC-7, R-BC-19 */
  CHECK_OK(wm_broadcast_close(s));
  CHECK_OK(wm_broadcast_close(s));
  CHECK_STATUS(wm_broadcast_post(s, v), WM_ERR_INVALID_STATE);
  CHECK_STATUS(wm_broadcast_post_json(s, "1"), WM_ERR_INVALID_STATE);
  CHECK_STATUS(wm_broadcast_try_recv(s, &m), WM_ERR_CLOSED);
  CHECK_STATUS(wm_broadcast_recv(r1, 10, &m), WM_ERR_TIMEOUT);
  wm_broadcast *bad;
  CHECK_STATUS(wm_broadcast_new(NULL, NULL, &bad), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_broadcast_new("x", "bad origin", &bad), WM_ERR_SYNTAX);
  CHECK(bad == NULL);
  CHECK_STATUS(wm_broadcast_post(NULL, v), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_broadcast_attach(NULL, r1, NULL, NULL, NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_OK(wm_broadcast_free(NULL));
  wm_value_free(v);
  wm_value_free(pv);
  wm_port_free(p);
  wm_port_free(q);
  wm_broadcast *all[] = {s, r1, r2, other_name, other_origin};
  for (int i = 0; i < 5; i++) CHECK_OK(wm_broadcast_free(all[i]));
  CHECK_STATUS(wm_broadcast_free(s), WM_ERR_INVALID_HANDLE);
}

int main(void) {
  RUN(r_win_3_4_12_13_target_origin_and_reply_through_source);
  RUN(r_win_5_bad_target_origin_is_syntax_error_before_serializing);
  RUN(r_win_8_11_14_checked_at_delivery_transfers_happen_anyway);
  RUN(window_message_source_gone_and_null_args);
  RUN(windows_and_broadcast_channels_on_a_loop);
  RUN(r_bc_3_4_5_6_7_broadcast_delivery_rules);
  return harness_finish("test_window_broadcast");
}
