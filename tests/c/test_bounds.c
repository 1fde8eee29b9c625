/* Bounded expansion: a small input may not grow into unbounded output. JSON of shared
 * references has a size budget (WM_JSON_BASE_BYTES + WM_JSON_BYTES_PER_UNIT per unit of the
 * value's size), and a decoded message's sparse arrays a length budget (2^20 + 16 per message
 * byte, the reader's limits). Past either: a named error, never an abort. */
#include "harness.h"

#include <pthread.h>

/* levels + 1 arrays, each holding the next one twice: tiny as a graph, 2^levels leaves as a
 * tree. Returns the outermost array (caller frees). */
static wm_value *doubling_chain(int levels) {
  wm_value *inner = NULL;
  if (wm_value_new_array(&inner) != WM_OK) return NULL;
  for (int i = 0; i < levels; i++) {
    wm_value *outer = NULL;
    if (wm_value_new_array(&outer) != WM_OK) break;
    CHECK_OK(wm_value_array_push(outer, inner));
    CHECK_OK(wm_value_array_push(outer, inner));
    wm_value_free(inner);
    inner = outer;
  }
  return inner;
}

static void check_json_refused(wm_status got, const char *out) {
  CHECK_STATUS(got, WM_ERR_DATA_CLONE);
  CHECK(out == NULL); /* the caller read `out` after the call */
  CHECK(strstr(wm_last_error(), "JSON text would exceed its limit") != NULL);
}

static void r_json_shared_references_have_a_bounded_output(void) {
  /* 24 levels were 117 MB of text; 34 tried to allocate ~120 GB and aborted; 64 is 2^64. */
#ifndef WM_TEST_LEVELS
#define WM_TEST_LEVELS 24, 34, 64
#endif
  int levels[] = {WM_TEST_LEVELS};
  for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
    wm_value *v = doubling_chain(levels[i]);
    REQUIRE(v != NULL);
    char *json = (char *)"unset";
    wm_status st = wm_value_to_json(v, &json);
    check_json_refused(st, json);

    /* The same value as a message: about 170 bytes on the wire. */
    wm_port *a, *b;
    wm_message *m;
    CHECK_OK(wm_channel_new(&a, &b));
    CHECK_OK(wm_port_post(a, v, NULL, 0));
    CHECK_OK(wm_port_try_recv(b, &m));
    const uint8_t *data;
    size_t len = 0;
    CHECK_OK(wm_message_serialized(m, &data, &len));
    CHECK(len < 16 * (size_t)levels[i] + 16);
    json = (char *)"unset";
    st = wm_message_to_json(m, &json);
    check_json_refused(st, json);
    /* The value API reads it without expanding anything. */
    wm_value *r = NULL, *first = NULL, *second = NULL;
    bool same = false;
    CHECK_OK(wm_message_value(m, &r));
    CHECK_OK(wm_value_array_get(r, 0, &first));
    CHECK_OK(wm_value_array_get(r, 1, &second));
    CHECK_OK(wm_value_same(first, second, &same));
    CHECK(same);
    wm_value_free(first);
    wm_value_free(second);
    wm_value_free(r);
    wm_message_free(m);
    wm_port_free(a);
    wm_port_free(b);
    wm_value_free(v);
  }
}

static void r_json_small_sharing_and_large_trees_still_fit(void) {
  /* A shared reference within the budget is written at each place, as JSON.stringify does. */
  wm_value *v = doubling_chain(3), *o, *n;
  char *json = NULL;
  CHECK_OK(wm_value_to_json(v, &json));
  CHECK_STR(json, "[[[[],[]],[[],[]]],[[[],[]],[[],[]]]]");
  wm_string_free(json);
  wm_value_free(v);

  /* A tree with no sharing always fits, even when every unit takes the widest escape: a
   * 2 MiB string of control characters is 12 MiB of JSON, well past the 1 MiB base. */
  size_t units = 2u << 20;
  char *text = malloc(units);
  REQUIRE(text != NULL);
  memset(text, 0x01, units);
  CHECK_OK(wm_value_new_object(&o));
  CHECK_OK(wm_value_new_string(text, units, &n));
  CHECK_OK(wm_value_object_set(o, "s", n));
  json = NULL;
  CHECK_OK(wm_value_to_json(o, &json));
  CHECK(json != NULL && strlen(json) == 6 * units + 8);
  CHECK(json != NULL && strncmp(json, "{\"s\":\"\\u0001", 12) == 0);
  wm_string_free(json);
  wm_value_free(n);
  wm_value_free(o);
  free(text);

  /* So does an array of many numbers, each much longer as text than as a graph slot. */
  wm_value *a;
  CHECK_OK(wm_value_new_array(&a));
  for (int i = 0; i < scaled(100000); i++) {
    CHECK_OK(wm_value_new_number(-0.1234567890123456e-300, &n));
    CHECK_OK(wm_value_array_push(a, n));
    wm_value_free(n);
  }
  json = NULL;
  CHECK_OK(wm_value_to_json(a, &json));
  CHECK(json != NULL && strlen(json) > 20 * (size_t)scaled(100000));
  wm_string_free(json);
  wm_value_free(a);
}

/* Posts raw wire bytes and receives them as a message. */
static wm_message *receive_bytes(const uint8_t *bytes, size_t len, wm_port **a, wm_port **b) {
  wm_message *m = NULL;
  if (wm_channel_new(a, b) != WM_OK) return NULL;
  CHECK_OK(wm_port_post_serialized(*a, bytes, len, NULL, 0));
  CHECK_OK(wm_port_try_recv(*b, &m));
  return m;
}

static void r_sparse_array_expansion_is_bounded(void) {
  /* 13 bytes: version 15, an empty sparse array of length 16,000,000. */
  const uint8_t huge[] = {0xFF, 0x0F, 'a', 0x80, 0xC8, 0xD0, 0x07, '@', 0x00, 0x80, 0xC8, 0xD0, 0x07};
  wm_port *a, *b;
  wm_message *m = receive_bytes(huge, sizeof huge, &a, &b);
  REQUIRE(m != NULL);
  wm_value *v = (wm_value *)1;
  CHECK_STATUS(wm_message_value(m, &v), WM_ERR_DECODE);
  CHECK(v == NULL);
  CHECK(strstr(wm_last_error(), "sparse array length 16000000 exceeds the limit") != NULL);
  char *json = (char *)"unset";
  CHECK_STATUS(wm_message_to_json(m, &json), WM_ERR_DECODE);
  CHECK(json == NULL);
  wm_message_free(m);
  wm_port_free(a);
  wm_port_free(b);

  /* Within the budget (2^20, here length 1,000,000) the array reads as before. */
  const uint8_t fine[] = {0xFF, 0x0F, 'a', 0xC0, 0x84, 0x3D, 'I', 0x02, 'T', '@', 0x01, 0xC0, 0x84, 0x3D};
  m = receive_bytes(fine, sizeof fine, &a, &b);
  REQUIRE(m != NULL);
  CHECK_OK(wm_message_value(m, &v));
  size_t n = 0;
  CHECK_OK(wm_value_length(v, &n));
  CHECK(n == 1000000);
  wm_value *item = NULL;
  bool t = false;
  CHECK_OK(wm_value_array_get(v, 1, &item));
  CHECK_OK(wm_value_get_bool(item, &t));
  CHECK(t);
  wm_value_free(item);
  wm_value_free(v);
  wm_message_free(m);
  wm_port_free(a);
  wm_port_free(b);

  /* The budget grows with the message: 2^20 + 16 per byte. Two arrays of length 600,000 each
   * (1.2 M in all) in a 25-byte message are refused; the lengths of all arrays add up. */
  const uint8_t two[] = {0xFF, 0x0F, 'A', 0x02, 'a', 0xC0, 0xCF, 0x24, '@', 0x00, 0xC0, 0xCF, 0x24,
                         'a', 0xC0, 0xCF, 0x24, '@', 0x00, 0xC0, 0xCF, 0x24, '$', 0x00, 0x02};
  m = receive_bytes(two, sizeof two, &a, &b);
  REQUIRE(m != NULL);
  CHECK_STATUS(wm_message_value(m, &v), WM_ERR_DECODE);
  CHECK(strstr(wm_last_error(), "sparse array length 600000 exceeds the limit") != NULL);
  wm_message_free(m);
  wm_port_free(a);
  wm_port_free(b);
}

/* 9,000 nested arrays written to JSON on a thread with a 128 KiB stack: the writer is iterative,
 * so depth costs heap, not stack (it used to recurse once per level). */
static void *deep_json(void *arg) {
  wm_value *v = NULL;
  if (wm_value_new_array(&v) != WM_OK) return NULL;
  for (int i = 0; i < 9000; i++) {
    wm_value *outer = NULL;
    if (wm_value_new_array(&outer) != WM_OK) break;
    wm_value_array_push(outer, v);
    wm_value_free(v);
    v = outer;
  }
  wm_status st = wm_value_to_json(v, (char **)arg);
  wm_value_free(v);
  return st == WM_OK ? arg : NULL;
}

static void r_json_deep_values_need_no_deep_stack(void) {
  pthread_attr_t attr;
  pthread_t t;
  char *json = NULL;
  void *ok = NULL;
  REQUIRE(pthread_attr_init(&attr) == 0);
  REQUIRE(pthread_attr_setstacksize(&attr, 128 * 1024) == 0);
  REQUIRE(pthread_create(&t, &attr, deep_json, &json) == 0);
  REQUIRE(pthread_join(t, &ok) == 0);
  pthread_attr_destroy(&attr);
  CHECK(ok != NULL);
  REQUIRE(json != NULL);
  CHECK(strlen(json) == 2 * 9001);
  CHECK(strncmp(json, "[[[", 3) == 0 && strcmp(json + strlen(json) - 3, "]]]") == 0);
  wm_string_free(json);
}

int main(void) {
  RUN(r_json_shared_references_have_a_bounded_output);
  RUN(r_json_small_sharing_and_large_trees_still_fit);
  RUN(r_sparse_array_expansion_is_bounded);
  RUN(r_json_deep_values_need_no_deep_stack);
  return harness_finish("test_bounds");
}
