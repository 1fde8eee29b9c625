/* Misuse must never crash: NULL everywhere, double free, use after free, never-issued and
 * wrong-type handles, use after close, invalid UTF-8, malformed JSON. */
#include "harness.h"

static void null_handles_and_null_out_pointers(void) {
  wm_port *a, *b;
  wm_message *m;
  wm_value *v;
  char *s;
  size_t n;
  CHECK_STATUS(wm_channel_new(NULL, &b), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_channel_new(&a, NULL), WM_ERR_NULL_ARG);
  CHECK(a == NULL);
  CHECK_STATUS(wm_port_post(NULL, NULL, NULL, 0), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_post_json(NULL, "1"), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_post_json_transfer(NULL, "1", NULL, 0), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_post_serialized(NULL, NULL, 0, NULL, 0), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_try_post(NULL, NULL, NULL, 0, -1), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_start(NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_close(NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_try_recv(NULL, &m), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_recv(NULL, 0, &m), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_set_capacity(NULL, 1, 1), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_get_metrics(NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_get_state(NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_message_port_count(NULL, &n), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_message_take_port(NULL, 0, &a), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_message_serialized(NULL, NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_message_to_json(NULL, &s), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_message_value(NULL, &v), WM_ERR_NULL_ARG);
  CHECK_OK(wm_message_free(NULL));
  CHECK_OK(wm_port_free(NULL));
  CHECK_OK(wm_value_free(NULL));
  wm_string_free(NULL);

  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_STATUS(wm_port_post_json(a, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_post(a, NULL, NULL, 2), WM_ERR_NULL_ARG);
  wm_port *holes[2] = {b, NULL};
  CHECK_STATUS(wm_port_post(a, NULL, holes, 2), WM_ERR_NULL_ARG);
  CHECK(strstr(wm_last_error(), "transfer[1]") != NULL);
  CHECK_STATUS(wm_port_post_serialized(a, NULL, 3, NULL, 0), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_try_recv(a, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_recv(a, 0, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_get_metrics(a, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_get_state(a, NULL), WM_ERR_NULL_ARG);
  CHECK_OK(wm_port_post_json(a, "1"));
  CHECK_OK(wm_port_try_recv(b, &m));
  CHECK_STATUS(wm_message_port_count(m, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_message_take_port(m, 0, NULL), WM_ERR_NULL_ARG);
  const uint8_t *data;
  CHECK_STATUS(wm_message_serialized(m, &data, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_message_serialized(m, NULL, &n), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_message_to_json(m, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_message_value(m, NULL), WM_ERR_NULL_ARG);
  wm_message_free(m);
  wm_port_free(a);
  wm_port_free(b);
}

static void double_free_and_use_after_free(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_port_post_json(a, "1"));
  wm_message *m;
  CHECK_OK(wm_port_try_recv(b, &m));
  CHECK_OK(wm_message_free(m));
  CHECK_STATUS(wm_message_free(m), WM_ERR_INVALID_HANDLE);
  char *s = NULL;
  CHECK_STATUS(wm_message_to_json(m, &s), WM_ERR_INVALID_HANDLE);
  CHECK(s == NULL);
  CHECK_OK(wm_port_free(a));
  CHECK_STATUS(wm_port_free(a), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_port_post_json(a, "1"), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_port_close(a), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_port_start(a), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_port_try_recv(a, &m), WM_ERR_INVALID_HANDLE);
  /* A stale handle stays invalid after its slot is reused by a new port. */
  wm_port *c, *d;
  CHECK_OK(wm_channel_new(&c, &d));
  CHECK(c != a && d != a);
  CHECK_STATUS(wm_port_post_json(a, "1"), WM_ERR_INVALID_HANDLE);
  wm_port *t[1] = {a};
  CHECK_STATUS(wm_port_post(c, NULL, t, 1), WM_ERR_INVALID_HANDLE);
  /* closed-and-freed */
  CHECK_OK(wm_port_close(c));
  CHECK_OK(wm_port_free(c));
  CHECK_STATUS(wm_port_close(c), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_port_free(c), WM_ERR_INVALID_HANDLE);
  wm_value *v;
  CHECK_OK(wm_value_new_number(1, &v));
  CHECK_OK(wm_value_free(v));
  CHECK_STATUS(wm_value_free(v), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_port_post(b, v, NULL, 0), WM_ERR_INVALID_HANDLE);
  wm_port_free(b);
  wm_port_free(d);
}

static void never_issued_and_wrong_type_handles(void) {
  int local = 0;
  wm_port *fake[] = {(wm_port *)(uintptr_t)1, (wm_port *)(uintptr_t)0x1234, (wm_port *)&local,
                     (wm_port *)(uintptr_t)-1, (wm_port *)(uintptr_t)0xdeadbeefcafef00dULL};
  for (size_t i = 0; i < sizeof fake / sizeof fake[0]; i++) {
    CHECK_STATUS(wm_port_post_json(fake[i], "1"), WM_ERR_INVALID_HANDLE);
    CHECK_STATUS(wm_port_free(fake[i]), WM_ERR_INVALID_HANDLE);
    CHECK_STATUS(wm_message_free((wm_message *)fake[i]), WM_ERR_INVALID_HANDLE);
    CHECK_STATUS(wm_value_free((wm_value *)fake[i]), WM_ERR_INVALID_HANDLE);
    CHECK_STATUS(wm_loop_free((wm_loop *)fake[i]), WM_ERR_INVALID_HANDLE);
  }
  /* A handle of one type passed as another is refused. */
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  wm_value *v;
  CHECK_OK(wm_value_new_null(&v));
  CHECK_STATUS(wm_port_post_json((wm_port *)v, "1"), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_value_free((wm_value *)a), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_message_free((wm_message *)a), WM_ERR_INVALID_HANDLE);
  CHECK_STATUS(wm_port_post(a, (wm_value *)b, NULL, 0), WM_ERR_INVALID_HANDLE);
  CHECK(strstr(wm_last_error(), "not a live") != NULL);
  CHECK_OK(wm_port_post(a, v, NULL, 0)); /* both still fine */
  wm_message *m;
  CHECK_OK(wm_port_try_recv(b, &m));
  char *s;
  CHECK_OK(wm_message_to_json(m, &s));
  CHECK_STR(s, "null");
  wm_string_free(s);
  wm_message_free(m);
  wm_value_free(v);
  wm_port_free(a);
  wm_port_free(b);
}

static void use_after_close(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_port_close(a));
  CHECK_OK(wm_port_post_json(a, "1")); /* silently dropped (R-CH-19) */
  CHECK_OK(wm_port_post_json(b, "1")); /* silently dropped (R-CH-18) */
  CHECK_OK(wm_port_start(a));
  CHECK_OK(wm_port_set_capacity(a, 1, 1));
  wm_message *m;
  CHECK_STATUS(wm_port_try_recv(a, &m), WM_ERR_CLOSED);
  CHECK_STATUS(wm_port_recv(a, -1, &m), WM_ERR_CLOSED); /* never blocks on a closed port */
  CHECK_STATUS(wm_port_try_recv(b, &m), WM_ERR_CLOSED);
  wm_port_state st;
  CHECK_OK(wm_port_get_state(a, &st));
  CHECK(st.detached && !st.entangled);
  wm_port_metrics met;
  CHECK_OK(wm_port_get_metrics(a, &met));
  CHECK(met.posted == 1 && met.dropped == 1);
  wm_port_free(a);
  wm_port_free(b);
}

static void invalid_utf8_and_malformed_json(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  const char bad_utf8[] = {'"', (char)0xff, (char)0xfe, '"', 0};
  CHECK_STATUS(wm_port_post_json(a, bad_utf8), WM_ERR_INVALID_ARG);
  CHECK(strstr(wm_last_error(), "UTF-8") != NULL);
  const char *malformed[] = {"", "{", "[1,]", "{\"a\" 1}", "nul", "1 2", "\"unterminated", "{'a':1}",
                             "[1, 2", "01", "NaN", "\"\\x\""};
  for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
    CHECK_STATUS(wm_port_post_json(a, malformed[i]), WM_ERR_SYNTAX);
  }
  CHECK(strstr(wm_last_error(), "SyntaxError") != NULL);
  /* Deep nesting is refused, not a stack overflow. */
  static char deep[200001];
  memset(deep, '[', 100000);
  memset(deep + 100000, ']', 100000);
  CHECK_STATUS(wm_port_post_json(a, deep), WM_ERR_SYNTAX);
  wm_value *v = (wm_value *)1;
  CHECK_STATUS(wm_value_from_json(bad_utf8, &v), WM_ERR_INVALID_ARG);
  CHECK(v == NULL);
  CHECK_STATUS(wm_value_new_string(bad_utf8, 4, &v), WM_ERR_INVALID_ARG);
  CHECK_STATUS(wm_value_object_set(NULL, bad_utf8, NULL), WM_ERR_NULL_ARG);
  wm_value *o, *one;
  CHECK_OK(wm_value_new_object(&o));
  CHECK_OK(wm_value_new_number(1, &one));
  CHECK_STATUS(wm_value_object_set(o, bad_utf8, one), WM_ERR_INVALID_ARG);
  CHECK_STATUS(wm_value_new_bigint("12x", &v), WM_ERR_SYNTAX);
  CHECK_STATUS(wm_value_new_regexp("a", "gg", &v), WM_ERR_SYNTAX);
  /* Nothing reached b. */
  wm_message *m;
  CHECK_STATUS(wm_port_try_recv(b, &m), WM_ERR_EMPTY);
  wm_value_free(o);
  wm_value_free(one);
  wm_port_free(a);
  wm_port_free(b);
}

/* A receive with a NULL `out` fails before it takes anything: the message is still there. */
static void a_null_out_loses_no_message(void) {
  wm_port *a, *b;
  wm_message *m = NULL;
  char *json = NULL;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_port_post_json(a, "1"));
  CHECK_OK(wm_port_post_json(a, "2"));
  CHECK_STATUS(wm_port_try_recv(b, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_recv(b, -1, NULL), WM_ERR_NULL_ARG);
  CHECK_OK(wm_port_try_recv(b, &m));
  CHECK_OK(wm_message_to_json(m, &json));
  CHECK_STR(json, "1");
  wm_string_free(json);
  wm_message_free(m);
  wm_window *w;
  CHECK_OK(wm_window_new("https://a.test", &w));
  CHECK_OK(wm_window_post_json(w, "3", "*", w));
  CHECK_STATUS(wm_window_try_recv(w, NULL), WM_ERR_NULL_ARG);
  CHECK_OK(wm_window_try_recv(w, &m));
  wm_message_free(m);
  wm_window_free(w);
  wm_port_free(a);
  wm_port_free(b);
}

static void last_error_is_per_thread_and_kept_by_success(void) {
  wm_port *a, *b;
  CHECK_STATUS(wm_port_close(NULL), WM_ERR_NULL_ARG);
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK(strstr(wm_last_error(), "wm_port_close") != NULL);
  wm_port_free(a);
  wm_port_free(b);
}

int main(void) {
  RUN(null_handles_and_null_out_pointers);
  RUN(double_free_and_use_after_free);
  RUN(never_issued_and_wrong_type_handles);
  RUN(use_after_close);
  RUN(invalid_utf8_and_malformed_json);
  RUN(a_null_out_loses_no_message);
  RUN(last_error_is_per_thread_and_kept_by_success);
  return harness_finish("test_misuse");
}
