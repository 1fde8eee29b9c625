/* The value API: build every type of the value model, post it, read it back; JSON in and out
 * with its strict mapping; shared references and cycles. */
#include <math.h>

#include "harness.h"

/* Posts `v` through a fresh channel and returns the received value (caller frees). */
static wm_value *round_trip(wm_value *v) {
  wm_port *a, *b;
  wm_message *m;
  wm_value *out = NULL;
  if (wm_channel_new(&a, &b) != WM_OK) return NULL;
  if (wm_port_post(a, v, NULL, 0) == WM_OK && wm_port_try_recv(b, &m) == WM_OK) {
    wm_message_value(m, &out);
    wm_message_free(m);
  }
  wm_port_free(a);
  wm_port_free(b);
  return out;
}

static wm_value_type type_of(const wm_value *v) {
  wm_value_type t = (wm_value_type)-1;
  CHECK_OK(wm_value_get_type(v, &t));
  return t;
}

static char *to_json(const wm_value *v) {
  char *s = NULL;
  wm_value_to_json(v, &s);
  return s;
}

static void primitives_round_trip(void) {
  wm_value *v, *r;
  CHECK_OK(wm_value_new_undefined(&v));
  r = round_trip(v);
  CHECK(type_of(r) == WM_VALUE_UNDEFINED);
  wm_value_free(v);
  wm_value_free(r);

  CHECK_OK(wm_value_new_null(&v));
  r = round_trip(v);
  CHECK(type_of(r) == WM_VALUE_NULL);
  wm_value_free(v);
  wm_value_free(r);

  bool b = false;
  CHECK_OK(wm_value_new_bool(true, &v));
  r = round_trip(v);
  CHECK_OK(wm_value_get_bool(r, &b));
  CHECK(b);
  wm_value_free(v);
  wm_value_free(r);

  double nums[] = {0.0, -0.0, 1.5, -1e300, INFINITY, -INFINITY, NAN, 9007199254740993.0};
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
    double d = 0;
    CHECK_OK(wm_value_new_number(nums[i], &v));
    r = round_trip(v);
    CHECK_OK(wm_value_get_number(r, &d));
    if (isnan(nums[i])) CHECK(isnan(d));
    else CHECK(d == nums[i] && signbit(d) == signbit(nums[i]));
    wm_value_free(v);
    wm_value_free(r);
  }
  /* Wrong-type reads. */
  CHECK_OK(wm_value_new_number(1, &v));
  CHECK_STATUS(wm_value_get_bool(v, &b), WM_ERR_WRONG_TYPE);
  char *s = NULL;
  CHECK_STATUS(wm_value_get_string(v, &s, NULL), WM_ERR_WRONG_TYPE);
  CHECK(s == NULL);
  size_t n;
  CHECK_STATUS(wm_value_length(v, &n), WM_ERR_WRONG_TYPE);
  wm_value_free(v);
}

static void bigint_as_decimal_and_bytes(void) {
  wm_value *v, *r;
  const char *big = "-123456789012345678901234567890";
  CHECK_OK(wm_value_new_bigint(big, &v));
  r = round_trip(v);
  CHECK(type_of(r) == WM_VALUE_BIGINT);
  char *dec = NULL;
  CHECK_OK(wm_value_get_bigint(r, &dec));
  CHECK_STR(dec, big);
  wm_string_free(dec);
  wm_value_free(v);
  wm_value_free(r);
  const uint8_t mag[] = {0x00, 0x01}; /* 256, little-endian */
  CHECK_OK(wm_value_new_bigint_bytes(false, mag, sizeof mag, &v));
  CHECK_OK(wm_value_get_bigint(v, &dec));
  CHECK_STR(dec, "256");
  wm_string_free(dec);
  char *json = NULL;
  CHECK_STATUS(wm_value_to_json(v, &json), WM_ERR_DATA_CLONE); /* no JSON form */
  wm_value_free(v);
  /* Bytes out: sign and little-endian magnitude of -2^64 after a post. */
  const uint8_t two64[] = {0, 0, 0, 0, 0, 0, 0, 0, 1};
  CHECK_OK(wm_value_new_bigint_bytes(true, two64, sizeof two64, &v));
  r = round_trip(v);
  bool neg = false;
  size_t len = 0;
  uint8_t out[16];
  CHECK_OK(wm_value_get_bigint_bytes(r, &neg, NULL, 0, &len));
  CHECK(len == 9);
  CHECK_STATUS(wm_value_get_bigint_bytes(r, &neg, out, 4, &len), WM_ERR_INVALID_ARG);
  CHECK_OK(wm_value_get_bigint_bytes(r, &neg, out, sizeof out, &len));
  CHECK(neg && len == 9 && memcmp(out, two64, 9) == 0);
  CHECK_OK(wm_value_get_bigint(r, &dec));
  CHECK_STR(dec, "-18446744073709551616");
  wm_string_free(dec);
  CHECK_STATUS(wm_value_get_bigint_bytes(r, NULL, NULL, 0, NULL), WM_ERR_NULL_ARG);
  wm_value_free(v);
  wm_value_free(r);
  CHECK_OK(wm_value_new_null(&v));
  CHECK_STATUS(wm_value_get_bigint_bytes(v, NULL, NULL, 0, &len), WM_ERR_WRONG_TYPE);
  wm_value_free(v);
}

static void strings_utf8_utf16_and_lone_surrogates(void) {
  wm_value *v, *r;
  const char text[] = "h\xc3\xa9llo \xf0\x9f\x98\x80 nul:\0end";
  CHECK_OK(wm_value_new_string(text, sizeof text - 1, &v));
  r = round_trip(v);
  char *s = NULL;
  size_t len = 0;
  CHECK_OK(wm_value_get_string(r, &s, &len));
  CHECK(len == sizeof text - 1 && s != NULL && memcmp(s, text, len) == 0);
  wm_string_free(s);
  CHECK_OK(wm_value_length(r, &len));
  CHECK(len == 17); /* UTF-16 code units: the emoji counts two */
  wm_value_free(v);
  wm_value_free(r);

  const uint16_t units[] = {'a', 0xD800, 'b'}; /* a lone surrogate survives */
  CHECK_OK(wm_value_new_string_utf16(units, 3, &v));
  r = round_trip(v);
  uint16_t got[8];
  CHECK_OK(wm_value_get_string_utf16(r, NULL, 0, &len));
  CHECK(len == 3);
  CHECK_STATUS(wm_value_get_string_utf16(r, got, 2, &len), WM_ERR_INVALID_ARG);
  CHECK_OK(wm_value_get_string_utf16(r, got, 8, &len));
  CHECK(len == 3 && got[0] == 'a' && got[1] == 0xD800 && got[2] == 'b');
  char *json = to_json(r);
  CHECK_STR(json, "\"a\\ud800b\"");
  wm_string_free(json);
  wm_value_free(v);
  wm_value_free(r);
}

static void containers_shared_references_and_cycles(void) {
  wm_value *obj, *arr, *one, *name, *r;
  CHECK_OK(wm_value_new_object(&obj));
  CHECK_OK(wm_value_new_array(&arr));
  CHECK_OK(wm_value_new_number(1, &one));
  CHECK_OK(wm_value_new_string("x", 1, &name));
  CHECK_OK(wm_value_object_set(obj, "name", name));
  CHECK_OK(wm_value_object_set(obj, "n", one));
  CHECK_OK(wm_value_object_set(obj, "2", one)); /* index keys come first, like JavaScript */
  CHECK_OK(wm_value_object_set(obj, "n", name)); /* replace in place */
  char *json = to_json(obj);
  CHECK_STR(json, "{\"2\":1,\"name\":\"x\",\"n\":\"x\"}");
  wm_string_free(json);
  /* The same object twice is one shared object on the other side. */
  CHECK_OK(wm_value_array_push(arr, obj));
  CHECK_OK(wm_value_array_push(arr, obj));
  CHECK_OK(wm_value_array_push(arr, one));
  r = round_trip(arr);
  REQUIRE(r != NULL);
  size_t n = 0;
  CHECK_OK(wm_value_length(r, &n));
  CHECK(n == 3);
  wm_value *e0, *e1, *e2;
  CHECK_OK(wm_value_array_get(r, 0, &e0));
  CHECK_OK(wm_value_array_get(r, 1, &e1));
  CHECK_OK(wm_value_array_get(r, 2, &e2));
  bool same = false;
  CHECK_OK(wm_value_same(e0, e1, &same));
  CHECK(same);
  CHECK_OK(wm_value_same(e0, e2, &same));
  CHECK(!same);
  wm_value *got;
  CHECK_STATUS(wm_value_array_get(r, 3, &got), WM_ERR_INVALID_ARG);
  CHECK_OK(wm_value_object_get(e0, "name", &got));
  char *s;
  CHECK_OK(wm_value_get_string(got, &s, NULL));
  CHECK_STR(s, "x");
  wm_string_free(s);
  wm_value_free(got);
  CHECK_STATUS(wm_value_object_get(e0, "missing", &got), WM_ERR_NOT_FOUND);
  char *key;
  CHECK_OK(wm_value_object_entry(e0, 0, &key, &got));
  CHECK_STR(key, "2");
  wm_string_free(key);
  wm_value_free(got);
  CHECK_STATUS(wm_value_object_entry(e0, 3, NULL, NULL), WM_ERR_INVALID_ARG);
  /* JSON writes a shared (acyclic) object twice. */
  json = to_json(r);
  CHECK_STR(json, "[{\"2\":1,\"name\":\"x\",\"n\":\"x\"},{\"2\":1,\"name\":\"x\",\"n\":\"x\"},1]");
  wm_string_free(json);
  wm_value_free(e0);
  wm_value_free(e1);
  wm_value_free(e2);
  wm_value_free(r);
  /* A cycle survives a post; JSON refuses it. */
  CHECK_OK(wm_value_object_set(obj, "self", obj));
  r = round_trip(obj);
  REQUIRE(r != NULL);
  wm_value *self;
  CHECK_OK(wm_value_object_get(r, "self", &self));
  CHECK_OK(wm_value_same(r, self, &same));
  CHECK(same);
  CHECK_STATUS(wm_value_to_json(r, &json), WM_ERR_DATA_CLONE);
  CHECK(strstr(wm_last_error(), "cyclic") != NULL);
  wm_value_free(self);
  wm_value_free(r);
  CHECK_STATUS(wm_value_array_push(obj, one), WM_ERR_WRONG_TYPE);
  CHECK_STATUS(wm_value_object_set(arr, "k", one), WM_ERR_WRONG_TYPE);
  wm_value_free(obj);
  wm_value_free(arr);
  wm_value_free(one);
  wm_value_free(name);
}

static void map_set_date_regexp_error_boxed(void) {
  wm_value *map, *set, *k, *v, *date, *re, *err, *cause, *boxed, *r, *got;
  CHECK_OK(wm_value_new_map(&map));
  CHECK_OK(wm_value_new_set(&set));
  CHECK_OK(wm_value_new_string("key", 3, &k));
  CHECK_OK(wm_value_new_number(42, &v));
  CHECK_OK(wm_value_map_set(map, k, v));
  CHECK_OK(wm_value_map_set(map, k, v)); /* same key: still one entry */
  CHECK_OK(wm_value_map_set(map, set, map)); /* object keys and a cycle */
  CHECK_OK(wm_value_set_add(set, v));
  CHECK_OK(wm_value_set_add(set, v));
  CHECK_OK(wm_value_new_date(1700000000000.0, &date));
  CHECK_OK(wm_value_set_add(set, date));
  CHECK_OK(wm_value_new_regexp("a+b", "gi", &re));
  CHECK_OK(wm_value_set_add(set, re));
  CHECK_OK(wm_value_new_error("TypeError", "bad thing", &err));
  CHECK_OK(wm_value_new_error("Error", NULL, &cause));
  CHECK_OK(wm_value_error_set_cause(err, cause));
  CHECK_OK(wm_value_set_add(set, err));
  CHECK_OK(wm_value_new_boxed(k, &boxed));
  CHECK_OK(wm_value_set_add(set, boxed));
  CHECK_STATUS(wm_value_new_boxed(map, &got), WM_ERR_WRONG_TYPE);

  r = round_trip(map);
  REQUIRE(r != NULL);
  CHECK(type_of(r) == WM_VALUE_MAP);
  size_t n = 0;
  CHECK_OK(wm_value_length(r, &n));
  CHECK(n == 2);
  wm_value *rk, *rv, *rset, *rmap;
  CHECK_OK(wm_value_map_entry(r, 0, &rk, &rv));
  double d = 0;
  CHECK_OK(wm_value_get_number(rv, &d));
  CHECK(d == 42);
  wm_value_free(rk);
  wm_value_free(rv);
  CHECK_OK(wm_value_map_entry(r, 1, &rset, &rmap));
  bool same = false;
  CHECK_OK(wm_value_same(rmap, r, &same));
  CHECK(same);
  CHECK(type_of(rset) == WM_VALUE_SET);
  CHECK_OK(wm_value_length(rset, &n));
  CHECK(n == 5);
  CHECK_OK(wm_value_set_get(rset, 1, &got));
  CHECK(type_of(got) == WM_VALUE_DATE);
  CHECK_OK(wm_value_get_date(got, &d));
  CHECK(d == 1700000000000.0);
  wm_value_free(got);
  CHECK_OK(wm_value_set_get(rset, 2, &got));
  char *src, *flags;
  CHECK_OK(wm_value_get_regexp(got, &src, &flags));
  CHECK_STR(src, "a+b");
  CHECK_STR(flags, "gi");
  wm_string_free(src);
  wm_string_free(flags);
  wm_value_free(got);
  CHECK_OK(wm_value_set_get(rset, 3, &got));
  char *name, *msg;
  wm_value *rc;
  CHECK_OK(wm_value_get_error(got, &name, &msg, &rc));
  CHECK_STR(name, "TypeError");
  CHECK_STR(msg, "bad thing");
  CHECK(type_of(rc) == WM_VALUE_ERROR);
  char *cmsg = (char *)1;
  CHECK_OK(wm_value_get_error(rc, NULL, &cmsg, NULL));
  CHECK(cmsg == NULL);
  wm_string_free(name);
  wm_string_free(msg);
  wm_value_free(rc);
  wm_value_free(got);
  CHECK_OK(wm_value_set_get(rset, 4, &got));
  CHECK(type_of(got) == WM_VALUE_STRING_OBJECT);
  char *s;
  CHECK_OK(wm_value_get_string(got, &s, NULL));
  CHECK_STR(s, "key");
  wm_string_free(s);
  wm_value_free(got);
  CHECK_STATUS(wm_value_set_get(rset, 5, &got), WM_ERR_INVALID_ARG);
  CHECK_STATUS(wm_value_map_entry(r, 2, NULL, NULL), WM_ERR_INVALID_ARG);
  wm_value_free(rset);
  wm_value_free(rmap);
  wm_value_free(r);
  char *json;
  CHECK_STATUS(wm_value_to_json(map, &json), WM_ERR_DATA_CLONE);
  wm_value *values[] = {map, set, k, v, date, re, err, cause, boxed};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) wm_value_free(values[i]);
}

static void array_buffers_and_views(void) {
  uint8_t bytes[16];
  for (int i = 0; i < 16; i++) bytes[i] = (uint8_t)i;
  wm_value *buf, *view, *dv, *arr, *r;
  CHECK_OK(wm_value_new_array_buffer(bytes, sizeof bytes, &buf));
  CHECK_OK(wm_value_new_view(WM_VIEW_UINT32, buf, 4, 8, &view));
  CHECK_OK(wm_value_new_view(WM_VIEW_DATAVIEW, buf, 1, 3, &dv));
  CHECK_STATUS(wm_value_new_view(WM_VIEW_UINT32, buf, 2, 4, &r), WM_ERR_INVALID_ARG); /* misaligned */
  CHECK_STATUS(wm_value_new_view(WM_VIEW_UINT8, buf, 10, 10, &r), WM_ERR_INVALID_ARG);
  CHECK_STATUS(wm_value_new_view(99, buf, 0, 0, &r), WM_ERR_INVALID_ARG);
  CHECK_STATUS(wm_value_new_view(WM_VIEW_UINT8, view, 0, 0, &r), WM_ERR_WRONG_TYPE);
  CHECK_OK(wm_value_new_array(&arr));
  CHECK_OK(wm_value_array_push(arr, view));
  CHECK_OK(wm_value_array_push(arr, dv));
  r = round_trip(arr);
  REQUIRE(r != NULL);
  wm_value *rv, *rdv, *rb1, *rb2;
  CHECK_OK(wm_value_array_get(r, 0, &rv));
  CHECK_OK(wm_value_array_get(r, 1, &rdv));
  CHECK(type_of(rv) == WM_VALUE_VIEW);
  wm_view_kind kind;
  size_t off = 0, len = 0;
  CHECK_OK(wm_value_get_view(rv, &kind, &rb1, &off, &len));
  CHECK(kind == WM_VIEW_UINT32 && off == 4 && len == 8);
  CHECK_OK(wm_value_get_view(rdv, &kind, &rb2, NULL, NULL));
  CHECK(kind == WM_VIEW_DATAVIEW);
  bool same = false;
  CHECK_OK(wm_value_same(rb1, rb2, &same));
  CHECK(same); /* both views share one buffer after the post */
  uint8_t out[16];
  CHECK_OK(wm_value_get_bytes(rv, out, sizeof out, &len));
  CHECK(len == 8 && memcmp(out, bytes + 4, 8) == 0);
  CHECK_OK(wm_value_get_bytes(rb1, NULL, 0, &len));
  CHECK(len == 16);
  CHECK_STATUS(wm_value_get_bytes(rb1, out, 4, &len), WM_ERR_INVALID_ARG);
  CHECK_OK(wm_value_get_bytes(rb1, out, sizeof out, &len));
  CHECK(memcmp(out, bytes, 16) == 0);
  CHECK_OK(wm_value_length(rb1, &len));
  CHECK(len == 16);
  wm_value *values[] = {buf, view, dv, arr, r, rv, rdv, rb1, rb2};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) wm_value_free(values[i]);
}

static void r_tr_array_buffers_transfer_without_copy_and_detach(void) {
  uint8_t bytes[16];
  for (int i = 0; i < 16; i++) bytes[i] = (uint8_t)(100 + i);
  wm_value *obj, *buf, *view;
  CHECK_OK(wm_value_new_object(&obj));
  CHECK_OK(wm_value_new_array_buffer(bytes, sizeof bytes, &buf));
  CHECK_OK(wm_value_new_view(WM_VIEW_UINT8, buf, 8, 8, &view));
  CHECK_OK(wm_value_object_set(obj, "buf", buf));
  CHECK_OK(wm_value_object_set(obj, "tail", view));
  wm_port *a, *b, *c, *d;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_channel_new(&c, &d));
  const wm_value *buffers[1] = {buf};
  wm_port *ports[1] = {c};
  CHECK_OK(wm_port_post_transfer(a, obj, ports, 1, buffers, 1));
  /* Detached here: no bytes left, and it cannot be transferred or cloned again. */
  size_t len = 99;
  CHECK_OK(wm_value_get_bytes(buf, NULL, 0, &len));
  CHECK(len == 0);
  CHECK_STATUS(wm_port_post_transfer(a, obj, NULL, 0, buffers, 1), WM_ERR_DATA_CLONE);
  /* The error says why: detached (not "out of bounds", as the view of it once made it say). */
  CHECK(strstr(wm_last_error(), "buffers[0] is detached") != NULL);
  CHECK_STATUS(wm_port_post(a, obj, NULL, 0), WM_ERR_DATA_CLONE);
  CHECK(strstr(wm_last_error(), "detached") != NULL);
  /* The old view sees no bytes, and no new view can be made over the detached buffer. */
  CHECK_OK(wm_value_get_bytes(view, NULL, 0, &len));
  CHECK(len == 0);
  wm_value *late = (wm_value *)1;
  CHECK_STATUS(wm_value_new_view(WM_VIEW_UINT8, buf, 0, 0, &late), WM_ERR_INVALID_STATE);
  CHECK(late == NULL && strstr(wm_last_error(), "detached") != NULL);
  wm_message *m;
  CHECK_OK(wm_port_try_recv(b, &m));
  size_t np = 0;
  CHECK_OK(wm_message_port_count(m, &np));
  CHECK(np == 1);
  wm_value *got, *rbuf, *rview;
  CHECK_OK(wm_message_value(m, &got));
  CHECK_OK(wm_value_object_get(got, "buf", &rbuf));
  CHECK_OK(wm_value_object_get(got, "tail", &rview));
  uint8_t out[16];
  CHECK_OK(wm_value_get_bytes(rbuf, out, sizeof out, &len));
  CHECK(len == 16 && memcmp(out, bytes, 16) == 0);
  CHECK_OK(wm_value_get_bytes(rview, out, sizeof out, &len));
  CHECK(len == 8 && memcmp(out, bytes + 8, 8) == 0);
  /* Misuse: a non-buffer in the buffer list, NULL entries. */
  wm_value *num;
  CHECK_OK(wm_value_new_number(1, &num));
  const wm_value *not_buffers[1] = {num};
  CHECK_STATUS(wm_port_post_transfer(a, obj, NULL, 0, not_buffers, 1), WM_ERR_DATA_CLONE);
  const wm_value *null_entry[1] = {NULL};
  CHECK_STATUS(wm_port_post_transfer(a, obj, NULL, 0, null_entry, 1), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_post_transfer(a, obj, NULL, 0, NULL, 1), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_port_post_transfer(a, NULL, NULL, 0, buffers, 1), WM_ERR_NULL_ARG);
  CHECK_OK(wm_port_post_transfer(a, NULL, NULL, 0, NULL, 0)); /* undefined */
  wm_value *values[] = {obj, buf, view, got, rbuf, rview, num};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) wm_value_free(values[i]);
  wm_message_free(m);
  wm_port *all[] = {a, b, c, d};
  for (int i = 0; i < 4; i++) wm_port_free(all[i]);
}

static void json_mapping(void) {
  struct {
    const char *in, *out;
  } cases[] = {
      {"null", "null"},
      {"true", "true"},
      {" 1.0 ", "1"},
      {"-0", "-0"},
      {"1e21", "1e+21"},
      {"0.1", "0.1"},
      {"\"\\u00e9\\n\\\"\"", "\"\xc3\xa9\\n\\\"\""},
      {"[]", "[]"},
      {"{}", "{}"},
      {"{\"b\":1,\"a\":2,\"b\":3}", "{\"b\":3,\"a\":2}"},
      {"{\"z\":1,\"10\":2,\"2\":3}", "{\"2\":3,\"10\":2,\"z\":1}"},
      {"[1,[2,[3,{\"x\":[]}]]]", "[1,[2,[3,{\"x\":[]}]]]"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wm_value *v = NULL;
    CHECK_OK(wm_value_from_json(cases[i].in, &v));
    wm_value *r = round_trip(v);
    char *json = to_json(r);
    CHECK_STR(json, cases[i].out);
    wm_string_free(json);
    wm_value_free(v);
    wm_value_free(r);
  }
  /* Values without a JSON form are refused, never silently changed. */
  wm_value *v;
  const double bad[] = {NAN, INFINITY};
  for (size_t i = 0; i < 2; i++) {
    CHECK_OK(wm_value_new_number(bad[i], &v));
    char *json = (char *)1;
    CHECK_STATUS(wm_value_to_json(v, &json), WM_ERR_DATA_CLONE);
    CHECK(json == NULL);
    wm_value_free(v);
  }
}

/* Copies the value through a channel: a new value, equal but not the same. */
static wm_value *through_a_channel(const wm_value *v) {
  wm_port *a, *b;
  wm_message *m = NULL;
  wm_value *out = NULL;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_port_post(a, v, NULL, 0));
  CHECK_OK(wm_port_try_recv(b, &m));
  CHECK_OK(wm_message_value(m, &out));
  wm_message_free(m);
  wm_port_free(a);
  wm_port_free(b);
  return out;
}

/* wm_value_equal is deep (unlike wm_value_same): a copy is equal; a changed number, -0 for 0,
 * or two equal objects where one was shared are not. */
static void deep_equality(void) {
  wm_value *obj, *shared, *arr, *nan, *copy, *other, *zero, *negzero;
  CHECK_OK(wm_value_from_json("{\"a\":[1,\"x\",null],\"b\":{\"c\":true}}", &obj));
  CHECK_OK(wm_value_new_object(&shared));
  CHECK_OK(wm_value_new_array(&arr));
  CHECK_OK(wm_value_array_push(arr, shared));
  CHECK_OK(wm_value_array_push(arr, shared)); /* [s, s] */
  CHECK_OK(wm_value_object_set(obj, "shared", arr));
  CHECK_OK(wm_value_new_number(NAN, &nan));
  CHECK_OK(wm_value_object_set(obj, "nan", nan));
  CHECK_OK(wm_value_object_set(obj, "self", obj)); /* a cycle */
  copy = through_a_channel(obj);
  bool eq = false, same = true;
  CHECK_OK(wm_value_equal(obj, copy, &eq));
  CHECK(eq);
  CHECK_OK(wm_value_same(obj, copy, &same));
  CHECK(!same);
  /* [s, t] with two equal objects is not [s, s]. */
  wm_value *t, *arr2;
  CHECK_OK(wm_value_new_object(&t));
  CHECK_OK(wm_value_new_array(&arr2));
  CHECK_OK(wm_value_array_push(arr2, shared));
  CHECK_OK(wm_value_array_push(arr2, t));
  CHECK_OK(wm_value_object_set(copy, "shared", arr2));
  CHECK_OK(wm_value_equal(obj, copy, &eq));
  CHECK(!eq);
  CHECK_OK(wm_value_from_json("{\"a\":[1,\"x\",null],\"b\":{\"c\":false}}", &other));
  CHECK_OK(wm_value_equal(obj, other, &eq));
  CHECK(!eq);
  CHECK_OK(wm_value_new_number(0.0, &zero));
  CHECK_OK(wm_value_new_number(-0.0, &negzero));
  CHECK_OK(wm_value_equal(zero, negzero, &eq));
  CHECK(!eq);
  CHECK_OK(wm_value_equal(nan, nan, &eq));
  CHECK(eq);
  CHECK_STATUS(wm_value_equal(zero, NULL, &eq), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_equal(zero, zero, NULL), WM_ERR_NULL_ARG);
  wm_value *vals[] = {obj, shared, arr, nan, copy, other, zero, negzero, t, arr2};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) wm_value_free(vals[i]);
}

static void value_null_arguments(void) {
  wm_value *v;
  CHECK_STATUS(wm_value_new_undefined(NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_null(NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_bool(true, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_number(1, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_bigint(NULL, &v), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_bigint_bytes(false, NULL, 1, &v), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_string(NULL, 1, &v), WM_ERR_NULL_ARG);
  CHECK_OK(wm_value_new_string(NULL, 0, &v));
  wm_value_free(v);
  CHECK_STATUS(wm_value_new_string_utf16(NULL, 1, &v), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_object(NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_array(NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_map(NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_set(NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_date(0, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_regexp(NULL, "", &v), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_error(NULL, NULL, &v), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_array_buffer(NULL, 1, &v), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_view(WM_VIEW_UINT8, NULL, 0, 0, &v), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_boxed(NULL, &v), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_new_port(NULL, &v), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_from_json(NULL, &v), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_array_push(NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_map_set(NULL, NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_set_add(NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_error_set_cause(NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_get_type(NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_OK(wm_value_new_null(&v));
  wm_value_type t;
  double d;
  bool b;
  size_t n;
  char *s;
  wm_value *o;
  wm_port *p;
  CHECK_STATUS(wm_value_get_type(v, NULL), WM_ERR_NULL_ARG);
  CHECK_OK(wm_value_get_type(v, &t));
  CHECK_STATUS(wm_value_get_bool(v, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_get_bool(NULL, &b), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_get_number(NULL, &d), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_get_date(NULL, &d), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_get_bigint(NULL, &s), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_get_string(NULL, &s, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_get_string_utf16(v, NULL, 0, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_get_bytes(v, NULL, 0, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_get_view(NULL, NULL, NULL, NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_get_regexp(NULL, NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_get_error(NULL, NULL, NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_length(v, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_array_get(NULL, 0, &o), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_object_entry(NULL, 0, NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_object_get(v, NULL, &o), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_map_entry(NULL, 0, NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_set_get(NULL, 0, &o), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_get_port(NULL, &p), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_get_port(v, &p), WM_ERR_WRONG_TYPE);
  CHECK_STATUS(wm_value_same(v, NULL, &b), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_same(v, v, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_to_json(v, NULL), WM_ERR_NULL_ARG);
  CHECK_STATUS(wm_value_get_view(v, NULL, NULL, NULL, NULL), WM_ERR_WRONG_TYPE);
  CHECK_STATUS(wm_value_get_regexp(v, NULL, NULL), WM_ERR_WRONG_TYPE);
  CHECK_STATUS(wm_value_get_error(v, NULL, NULL, NULL), WM_ERR_WRONG_TYPE);
  CHECK_STATUS(wm_value_get_date(v, &d), WM_ERR_WRONG_TYPE);
  CHECK_STATUS(wm_value_get_bigint(v, &s), WM_ERR_WRONG_TYPE);
  CHECK_STATUS(wm_value_array_get(v, 0, &o), WM_ERR_WRONG_TYPE);
  CHECK_STATUS(wm_value_map_set(v, v, v), WM_ERR_WRONG_TYPE);
  CHECK_STATUS(wm_value_set_add(v, v), WM_ERR_WRONG_TYPE);
  CHECK_STATUS(wm_value_error_set_cause(v, v), WM_ERR_WRONG_TYPE);
  (void)n;
  wm_value_free(v);
}

int main(void) {
  RUN(primitives_round_trip);
  RUN(bigint_as_decimal_and_bytes);
  RUN(strings_utf8_utf16_and_lone_surrogates);
  RUN(containers_shared_references_and_cycles);
  RUN(map_set_date_regexp_error_boxed);
  RUN(array_buffers_and_views);
  RUN(r_tr_array_buffers_transfer_without_copy_and_detach);
  RUN(json_mapping);
  RUN(deep_equality);
  RUN(value_null_arguments);
  return harness_finish("test_value");
}
