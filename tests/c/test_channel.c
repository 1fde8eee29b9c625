/* Channels and ports through the C ABI: the R-CH requirements, receive calls, capacity,
 * metrics, state, version and status helpers. */
#include "harness.h"

/* Receives one message without waiting and returns its JSON (caller frees), or NULL. */
static char *try_json(wm_port *p) {
  wm_message *m = NULL;
  if (wm_port_try_recv(p, &m) != WM_OK) return NULL;
  char *json = NULL;
  wm_message_to_json(m, &json);
  wm_message_free(m);
  return json;
}

static void expect_json(wm_port *p, const char *want) {
  char *got = try_json(p);
  CHECK_STR(got, want);
  wm_string_free(got);
}

static void version_and_status_strings(void) {
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", WM_VERSION_MAJOR, WM_VERSION_MINOR, WM_VERSION_PATCH);
  CHECK_STR(wm_version(), want);
  CHECK_STR(wm_status_str(WM_OK), "WM_OK");
  CHECK_STR(wm_status_str(WM_ERR_NULL_ARG), "WM_ERR_NULL_ARG");
  CHECK_STR(wm_status_str(WM_ERR_WRONG_TYPE), "WM_ERR_WRONG_TYPE");
  CHECK_STR(wm_status_str(-1), "WM_ERR_UNKNOWN");
  CHECK_STR(wm_status_str(9999), "WM_ERR_UNKNOWN");
  /* The numbers are part of the ABI and never change. */
  CHECK(WM_ERR_NULL_ARG == 1 && WM_ERR_INVALID_HANDLE == 2 && WM_ERR_INVALID_ARG == 3);
  CHECK(WM_ERR_DATA_CLONE == 4 && WM_ERR_INVALID_STATE == 5 && WM_ERR_SYNTAX == 6);
  CHECK(WM_ERR_TIMEOUT == 7 && WM_ERR_EMPTY == 8 && WM_ERR_CLOSED == 9 && WM_ERR_FULL == 10);
  CHECK(WM_ERR_DECODE == 11 && WM_ERR_PANIC == 12 && WM_ERR_IO == 13 && WM_ERR_WRONG_TYPE == 14);
  CHECK(WM_ERR_NOT_FOUND == 15);
  CHECK_STR(wm_status_str(WM_ERR_NOT_FOUND), "WM_ERR_NOT_FOUND");
  /* A failing call leaves a message naming the function, exactly (the labels are derived from
   * the function they are in, so a wrapper and the call it wraps each say their own name). */
  CHECK_STATUS(wm_port_start(NULL), WM_ERR_NULL_ARG);
  CHECK_STR(wm_last_error(), "wm_port_start: argument `port` is NULL");
  CHECK_STATUS(wm_port_post_json_transfer(NULL, "1", NULL, 0), WM_ERR_NULL_ARG);
  CHECK_STR(wm_last_error(), "wm_port_post_json_transfer: argument `port` is NULL");
  CHECK_STATUS(wm_port_post_json(NULL, "1"), WM_ERR_NULL_ARG);
  CHECK_STR(wm_last_error(), "wm_port_post_json: argument `port` is NULL");
  CHECK_STATUS(wm_port_try_recv(NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STR(wm_last_error(), "wm_port_try_recv: argument `port` is NULL");
  CHECK_STATUS(wm_value_array_push(NULL, NULL), WM_ERR_NULL_ARG);
  CHECK_STR(wm_last_error(), "wm_value_array_push: argument `array` is NULL");
}

static void r_ch_1_new_channel_ports_are_distinct_and_entangled(void) {
  wm_port *a = NULL, *b = NULL;
  CHECK_OK(wm_channel_new(&a, &b));
  REQUIRE(a != NULL && b != NULL);
  CHECK(a != b);
  wm_port_state st;
  CHECK_OK(wm_port_get_state(a, &st));
  CHECK(st.entangled && !st.detached && !st.started);
  CHECK_OK(wm_port_post_json(a, "{\"hello\":[1,2.5,\"x\",true,null]}"));
  expect_json(b, "{\"hello\":[1,2.5,\"x\",true,null]}");
  CHECK_OK(wm_port_free(a));
  CHECK_OK(wm_port_free(b));
}

static void r_ch_3_channels_are_bidirectional(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_port_post_json(b, "\"back\""));
  expect_json(a, "\"back\"");
  CHECK_OK(wm_port_post_json(a, "\"forth\""));
  expect_json(b, "\"forth\"");
  wm_port_free(a);
  wm_port_free(b);
}

static void r_ch_4_unstarted_port_buffers_and_pull_still_reads(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  for (int i = 0; i < 3; i++) {
    char buf[16];
    snprintf(buf, sizeof buf, "%d", i);
    CHECK_OK(wm_port_post_json(a, buf));
  }
  wm_port_metrics m;
  CHECK_OK(wm_port_get_metrics(b, &m));
  CHECK(m.depth == 3);
  /* Pull calls read a port whether started or not (like receiveMessageOnPort). */
  expect_json(b, "0");
  CHECK_OK(wm_port_start(b));
  CHECK_OK(wm_port_start(b)); /* R-CH-8: idempotent */
  wm_port_state st;
  CHECK_OK(wm_port_get_state(b, &st));
  CHECK(st.started);
  expect_json(b, "1");
  expect_json(b, "2");
  wm_message *msg = (wm_message *)1;
  CHECK_STATUS(wm_port_try_recv(b, &msg), WM_ERR_EMPTY);
  CHECK(msg == NULL);
  wm_port_free(a);
  wm_port_free(b);
}

static void r_ch_8_start_never_fails_on_closed_port(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_port_close(a));
  CHECK_OK(wm_port_start(a));
  wm_port_free(a);
  wm_port_free(b);
}

static void r_ch_9_delivery_is_fifo(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  int n = 500;
  for (int i = 0; i < n; i++) {
    char buf[16];
    snprintf(buf, sizeof buf, "%d", i);
    CHECK_OK(wm_port_post_json(a, buf));
  }
  for (int i = 0; i < n; i++) {
    char want[16];
    snprintf(want, sizeof want, "%d", i);
    char *got = try_json(b);
    if (got == NULL || strcmp(got, want) != 0) {
      CHECK_STR(got, want);
      wm_string_free(got);
      break;
    }
    wm_string_free(got);
  }
  wm_port_free(a);
  wm_port_free(b);
}

static void r_ch_13_source_port_in_transfer_list(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  wm_port *t[1] = {a};
  CHECK_STATUS(wm_port_post(a, NULL, t, 1), WM_ERR_DATA_CLONE);
  CHECK(strstr(wm_last_error(), "DataCloneError") != NULL);
  wm_port_state st;
  CHECK_OK(wm_port_get_state(a, &st));
  CHECK(!st.detached && st.entangled); /* nothing detached */
  wm_message *m;
  CHECK_STATUS(wm_port_try_recv(b, &m), WM_ERR_EMPTY);
  wm_port_free(a);
  wm_port_free(b);
}

static void r_ch_14_peer_in_transfer_list_dooms_the_channel(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  wm_port *t[1] = {b};
  CHECK_OK(wm_port_post_json_transfer(a, "\"doomed\"", t, 1));
  wm_port_state st;
  CHECK_OK(wm_port_get_state(b, &st));
  CHECK(st.detached);
  CHECK_OK(wm_port_get_state(a, &st));
  CHECK(!st.entangled);
  /* The message is gone; the channel ends with a close notice at a. */
  wm_message *m;
  CHECK_STATUS(wm_port_try_recv(a, &m), WM_ERR_CLOSED);
  wm_port_free(a);
  wm_port_free(b);
}

static void r_ch_15_port_in_value_but_not_in_transfer_list(void) {
  wm_port *a, *b, *c, *d;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_channel_new(&c, &d));
  wm_value *pv;
  CHECK_OK(wm_value_new_port(c, &pv));
  CHECK_STATUS(wm_port_post(a, pv, NULL, 0), WM_ERR_DATA_CLONE);
  wm_port_state st;
  CHECK_OK(wm_port_get_state(c, &st));
  CHECK(!st.detached);
  /* With c in the transfer list the same value posts, and the receiver sees the port both in
   * the data and in the ports list (R-CH-30), as one port. */
  wm_port *t[1] = {c};
  CHECK_OK(wm_port_post(a, pv, t, 1));
  wm_message *m;
  CHECK_OK(wm_port_try_recv(b, &m));
  size_t n = 0;
  CHECK_OK(wm_message_port_count(m, &n));
  CHECK(n == 1);
  wm_value *got;
  CHECK_OK(wm_message_value(m, &got));
  wm_value_type ty;
  CHECK_OK(wm_value_get_type(got, &ty));
  CHECK(ty == WM_VALUE_PORT);
  wm_port *from_value;
  CHECK_OK(wm_value_get_port(got, &from_value));
  CHECK_OK(wm_port_post_json(d, "\"via value\""));
  expect_json(from_value, "\"via value\"");
  wm_value_free(got);
  wm_value_free(pv);
  wm_message_free(m);
  wm_port_free(from_value);
  wm_port_free(a);
  wm_port_free(b);
  wm_port_free(c);
  wm_port_free(d);
}

static void r_ch_17_posting_from_closed_port_drops_but_detaches_transfers(void) {
  wm_port *a, *b, *c, *d;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_channel_new(&c, &d));
  CHECK_OK(wm_port_close(a));
  wm_port *t[1] = {c};
  CHECK_OK(wm_port_post_json_transfer(a, "1", t, 1));
  wm_port_state st;
  CHECK_OK(wm_port_get_state(c, &st));
  CHECK(st.detached);
  /* Serialization still runs: malformed JSON still fails. */
  CHECK_STATUS(wm_port_post_json(a, "{"), WM_ERR_SYNTAX);
  wm_message *m;
  CHECK_STATUS(wm_port_try_recv(b, &m), WM_ERR_CLOSED);
  wm_port_free(a);
  wm_port_free(b);
  wm_port_free(c);
  wm_port_free(d);
}

static void r_ch_18_message_to_closed_port_never_arrives(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_port_close(b));
  CHECK_OK(wm_port_post_json(a, "1"));
  wm_message *m;
  CHECK_STATUS(wm_port_try_recv(b, &m), WM_ERR_CLOSED);
  wm_port_metrics met;
  CHECK_OK(wm_port_get_metrics(a, &met));
  CHECK(met.posted == 1 && met.dropped == 1);
  wm_port_free(a);
  wm_port_free(b);
}

static void r_ch_20_in_flight_messages_delivered_before_close(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_port_post_json(a, "\"last words\""));
  CHECK_OK(wm_port_close(a));
  CHECK_OK(wm_port_close(a)); /* R-CH-23: idempotent */
  expect_json(b, "\"last words\"");
  wm_message *m;
  CHECK_STATUS(wm_port_recv(b, 1000, &m), WM_ERR_CLOSED);
  CHECK(strstr(wm_last_error(), "closed") != NULL);
  /* Sticky. */
  CHECK_STATUS(wm_port_try_recv(b, &m), WM_ERR_CLOSED);
  CHECK(m == NULL);
  wm_port_free(a);
  wm_port_free(b);
}

static void r_ch_21_closing_receiver_keeps_its_queued_messages(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_port_post_json(a, "1"));
  CHECK_OK(wm_port_post_json(a, "2"));
  CHECK_OK(wm_port_close(b));
  expect_json(b, "1");
  expect_json(b, "2");
  wm_message *m;
  CHECK_STATUS(wm_port_try_recv(b, &m), WM_ERR_CLOSED);
  wm_port_free(a);
  wm_port_free(b);
}

static void r_ch_22_closed_port_cannot_be_transferred_but_its_peer_can(void) {
  wm_port *a, *b, *x, *y;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_channel_new(&x, &y));
  CHECK_OK(wm_port_close(a));
  wm_port *t[1] = {a};
  CHECK_STATUS(wm_port_post(x, NULL, t, 1), WM_ERR_DATA_CLONE);
  t[0] = b;
  CHECK_OK(wm_port_post(x, NULL, t, 1));
  wm_message *m;
  CHECK_OK(wm_port_try_recv(y, &m));
  wm_message_free(m);
  wm_port_free(a);
  wm_port_free(b);
  wm_port_free(x);
  wm_port_free(y);
}

static void r_ch_24_transferred_port_cannot_be_transferred_again(void) {
  wm_port *a, *b, *c, *d;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_channel_new(&c, &d));
  wm_port *t[1] = {c};
  CHECK_OK(wm_port_post(a, NULL, t, 1));
  CHECK_STATUS(wm_port_post(a, NULL, t, 1), WM_ERR_DATA_CLONE);
  /* The detached original cannot receive: its mailbox moved. */
  wm_message *m;
  CHECK_STATUS(wm_port_try_recv(c, &m), WM_ERR_INVALID_STATE);
  /* A port listed twice is refused before anything is detached. */
  wm_port *e, *f;
  CHECK_OK(wm_channel_new(&e, &f));
  wm_port *twice[2] = {e, e};
  CHECK_STATUS(wm_port_post(a, NULL, twice, 2), WM_ERR_DATA_CLONE);
  wm_port_state st;
  CHECK_OK(wm_port_get_state(e, &st));
  CHECK(!st.detached);
  CHECK_OK(wm_port_try_recv(b, &m));
  wm_message_free(m);
  wm_port_free(a);
  wm_port_free(b);
  wm_port_free(c);
  wm_port_free(d);
  wm_port_free(e);
  wm_port_free(f);
}

static void r_ch_25_26_transferred_port_keeps_peer_and_backlog(void) {
  wm_port *a, *b, *keep, *travel;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_channel_new(&keep, &travel));
  CHECK_OK(wm_port_post_json(keep, "\"queued before the move\""));
  wm_port *t[1] = {travel};
  CHECK_OK(wm_port_post_json_transfer(a, "\"take this\"", t, 1));
  CHECK_OK(wm_port_post_json(keep, "\"sent while in flight\""));
  wm_message *m;
  CHECK_OK(wm_port_try_recv(b, &m));
  wm_port *moved = NULL;
  CHECK_OK(wm_message_take_port(m, 0, &moved));
  wm_port *again = (wm_port *)1;
  CHECK_STATUS(wm_message_take_port(m, 0, &again), WM_ERR_INVALID_STATE);
  CHECK(again == NULL);
  CHECK_STATUS(wm_message_take_port(m, 1, &again), WM_ERR_INVALID_ARG);
  CHECK_OK(wm_message_free(m));
  REQUIRE(moved != NULL);
  /* R-CH-28: a received port starts disabled. */
  wm_port_state st;
  CHECK_OK(wm_port_get_state(moved, &st));
  CHECK(!st.started && st.entangled);
  expect_json(moved, "\"queued before the move\"");
  expect_json(moved, "\"sent while in flight\"");
  /* Both directions (R-CH-25). */
  CHECK_OK(wm_port_post_json(moved, "\"reply\""));
  expect_json(keep, "\"reply\"");
  wm_port_free(moved);
  wm_port_free(a);
  wm_port_free(b);
  wm_port_free(keep);
  wm_port_free(travel);
}

static void r_ch_27_messages_sent_before_transfer_still_arrive(void) {
  wm_port *a, *b, *p, *q;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_channel_new(&p, &q));
  CHECK_OK(wm_port_post_json(p, "\"from p before moving\""));
  wm_port *t[1] = {p};
  CHECK_OK(wm_port_post(a, NULL, t, 1));
  expect_json(q, "\"from p before moving\"");
  wm_port_free(a);
  wm_port_free(b);
  wm_port_free(p);
  wm_port_free(q);
}

static void r_ch_35_freeing_a_port_disentangles_it(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_port_free(a));
  wm_message *m;
  CHECK_STATUS(wm_port_recv(b, 1000, &m), WM_ERR_CLOSED);
  CHECK(strstr(wm_last_error(), "dropped") != NULL);
  /* A message carrying a port that is never taken drops that port too. */
  wm_port *x, *y, *p, *q;
  CHECK_OK(wm_channel_new(&x, &y));
  CHECK_OK(wm_channel_new(&p, &q));
  wm_port *t[1] = {p};
  CHECK_OK(wm_port_post(x, NULL, t, 1));
  CHECK_OK(wm_port_try_recv(y, &m));
  CHECK_OK(wm_message_free(m));
  CHECK_STATUS(wm_port_recv(q, 1000, &m), WM_ERR_CLOSED);
  wm_port_free(b);
  wm_port_free(x);
  wm_port_free(y);
  wm_port_free(p);
  wm_port_free(q);
}

static void recv_timeout_and_capacity(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  wm_message *m = (wm_message *)1;
  CHECK_STATUS(wm_port_recv(b, 20, &m), WM_ERR_TIMEOUT);
  CHECK(m == NULL);
  CHECK_STATUS(wm_port_recv(b, 0, &m), WM_ERR_TIMEOUT);
  CHECK_OK(wm_port_set_capacity(b, 2, 0));
  CHECK_OK(wm_port_try_post(a, NULL, NULL, 0, 0));
  CHECK_OK(wm_port_try_post(a, NULL, NULL, 0, 0));
  CHECK_STATUS(wm_port_try_post(a, NULL, NULL, 0, 0), WM_ERR_FULL);
  CHECK_STATUS(wm_port_try_post(a, NULL, NULL, 0, 10), WM_ERR_TIMEOUT);
  /* Plain posts keep web semantics: unbounded. */
  CHECK_OK(wm_port_post(a, NULL, NULL, 0));
  wm_port_metrics met;
  CHECK_OK(wm_port_get_metrics(b, &met));
  CHECK(met.depth == 3 && met.high_water_mark == 3 && met.enqueued == 3);
  CHECK_OK(wm_port_recv(b, -1, &m));
  char *json = NULL;
  /* NULL value posts undefined, which has no JSON form. */
  CHECK_STATUS(wm_message_to_json(m, &json), WM_ERR_DATA_CLONE);
  CHECK(json == NULL);
  wm_value *v;
  CHECK_OK(wm_message_value(m, &v));
  wm_value_type ty;
  CHECK_OK(wm_value_get_type(v, &ty));
  CHECK(ty == WM_VALUE_UNDEFINED);
  wm_value_free(v);
  wm_message_free(m);
  CHECK_OK(wm_port_set_capacity(b, 0, 0));
  wm_port_free(a);
  wm_port_free(b);
}

static void serialized_bytes_round_trip_and_bad_bytes_are_decode_errors(void) {
  wm_port *a, *b;
  CHECK_OK(wm_channel_new(&a, &b));
  CHECK_OK(wm_port_post_json(a, "{\"a\":1}"));
  wm_message *m;
  CHECK_OK(wm_port_try_recv(b, &m));
  const uint8_t *data = NULL;
  size_t len = 0;
  CHECK_OK(wm_message_serialized(m, &data, &len));
  /* The canonical V8 v15 bytes of {a: 1}. */
  static const uint8_t want[] = {0xff, 0x0f, 0x6f, 0x22, 0x01, 'a', 0x49, 0x02, 0x7b, 0x01};
  CHECK(len == sizeof want && memcmp(data, want, len) == 0);
  CHECK_OK(wm_port_post_serialized(b, data, len, NULL, 0));
  wm_message_free(m);
  expect_json(a, "{\"a\":1}");
  /* Garbage bytes are posted, but decoding them is a DecodeError for that message only. */
  static const uint8_t junk[] = {0xff, 0x0f, 0x6f, 0x22, 0x09};
  CHECK_OK(wm_port_post_serialized(a, junk, sizeof junk, NULL, 0));
  CHECK_OK(wm_port_post_json(a, "\"still fine\""));
  CHECK_OK(wm_port_try_recv(b, &m));
  char *json = NULL;
  CHECK_STATUS(wm_message_to_json(m, &json), WM_ERR_DECODE);
  wm_value *v = NULL;
  CHECK_STATUS(wm_message_value(m, &v), WM_ERR_DECODE);
  CHECK(v == NULL);
  wm_message_free(m);
  expect_json(b, "\"still fine\"");
  wm_port_free(a);
  wm_port_free(b);
}

int main(void) {
  RUN(version_and_status_strings);
  RUN(r_ch_1_new_channel_ports_are_distinct_and_entangled);
  RUN(r_ch_3_channels_are_bidirectional);
  RUN(r_ch_4_unstarted_port_buffers_and_pull_still_reads);
  RUN(r_ch_8_start_never_fails_on_closed_port);
  RUN(r_ch_9_delivery_is_fifo);
  RUN(r_ch_13_source_port_in_transfer_list);
  RUN(r_ch_14_peer_in_transfer_list_dooms_the_channel);
  RUN(r_ch_15_port_in_value_but_not_in_transfer_list);
  RUN(r_ch_17_posting_from_closed_port_drops_but_detaches_transfers);
  RUN(r_ch_18_message_to_closed_port_never_arrives);
  RUN(r_ch_20_in_flight_messages_delivered_before_close);
  RUN(r_ch_21_closing_receiver_keeps_its_queued_messages);
  RUN(r_ch_22_closed_port_cannot_be_transferred_but_its_peer_can);
  RUN(r_ch_24_transferred_port_cannot_be_transferred_again);
  RUN(r_ch_25_26_transferred_port_keeps_peer_and_backlog);
  RUN(r_ch_27_messages_sent_before_transfer_still_arrive);
  RUN(r_ch_35_freeing_a_port_disentangles_it);
  RUN(recv_timeout_and_capacity);
  RUN(serialized_bytes_round_trip_and_bad_bytes_are_decode_errors);
  return harness_finish("test_channel");
}
