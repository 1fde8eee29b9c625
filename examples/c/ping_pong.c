/* Two-thread ping-pong over a MessageChannel, with the pong side's port handed to a third
 * thread mid-game: the port moves with its backlog and its peer never notices.
 *
 *   main thread  ── ping ──▶  thread "pong-1"  (answers 3 pings, then hands its port on)
 *                ◀─ pong ──   thread "pong-2"  (receives the port in a message, answers the rest)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <webmessaging.h>

#define ROUNDS 6

#define TRY(call)                                                                    \
  do {                                                                               \
    wm_status s_ = (call);                                                           \
    if (s_ != WM_OK) {                                                               \
      fprintf(stderr, "%s failed: %s: %s\n", #call, wm_status_str(s_), wm_last_error()); \
      exit(1);                                                                       \
    }                                                                                \
  } while (0)

typedef struct {
  const char *name;
  wm_port *port;     /* pong-1: the game port; pong-2: NULL until it arrives */
  wm_port *handoff;  /* pong-1 sends the game port here; pong-2 receives it here */
  int answers;       /* how many pings to answer before handing off (0: until closed) */
} player;

/* Answers pings on `port`: reads {"ping": n}, replies {"pong": n, "by": name}. */
static int serve(const char *name, wm_port *port, int limit) {
  int served = 0;
  while (limit == 0 || served < limit) {
    wm_message *msg;
    wm_status st = wm_port_recv(port, 5000, &msg);
    if (st == WM_ERR_CLOSED) break;
    TRY(st);
    char *json;
    TRY(wm_message_to_json(msg, &json));
    int n = 0;
    sscanf(json, "{\"ping\":%d}", &n);
    char reply[96];
    snprintf(reply, sizeof reply, "{\"pong\":%d,\"by\":\"%s\"}", n, name);
    TRY(wm_port_post_json(port, reply));
    wm_string_free(json);
    wm_message_free(msg);
    served++;
  }
  return served;
}

static void *pong1(void *arg) {
  player *p = arg;
  serve(p->name, p->port, p->answers);
  /* Hand the game port to the third thread; it stops being ours (it is detached). */
  wm_port *transfer[1] = {p->port};
  TRY(wm_port_post_json_transfer(p->handoff, "\"your turn\"", transfer, 1));
  TRY(wm_port_free(p->port));
  return NULL;
}

static void *pong2(void *arg) {
  player *p = arg;
  wm_message *msg;
  TRY(wm_port_recv(p->handoff, 5000, &msg));
  TRY(wm_message_take_port(msg, 0, &p->port));
  TRY(wm_message_free(msg));
  int served = serve(p->name, p->port, 0);
  printf("pong-2 served %d pings on the port it received\n", served);
  TRY(wm_port_free(p->port));
  return NULL;
}

int main(void) {
  printf("libwebmessaging %s\n", wm_version());
  wm_port *ping, *pong, *hand_a, *hand_b;
  TRY(wm_channel_new(&ping, &pong));
  TRY(wm_channel_new(&hand_a, &hand_b));
  player p1 = {"pong-1", pong, hand_a, 3}, p2 = {"pong-2", NULL, hand_b, 0};
  pthread_t t1, t2;
  pthread_create(&t1, NULL, pong1, &p1);
  pthread_create(&t2, NULL, pong2, &p2);
  for (int i = 1; i <= ROUNDS; i++) {
    char buf[32];
    snprintf(buf, sizeof buf, "{\"ping\":%d}", i);
    TRY(wm_port_post_json(ping, buf));
    wm_message *msg;
    TRY(wm_port_recv(ping, 5000, &msg));
    char *json;
    TRY(wm_message_to_json(msg, &json));
    printf("main got %s\n", json);
    char want[32];
    snprintf(want, sizeof want, "{\"pong\":%d,", i);
    if (strncmp(json, want, strlen(want)) != 0) {
      fprintf(stderr, "unexpected reply %s\n", json);
      return 1;
    }
    wm_string_free(json);
    wm_message_free(msg);
  }
  TRY(wm_port_close(ping)); /* pong-2 sees WM_ERR_CLOSED after the last ping */
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  TRY(wm_port_free(ping));
  TRY(wm_port_free(hand_a));
  TRY(wm_port_free(hand_b));
  if (wm_live_handles() != 0) {
    fprintf(stderr, "leaked %zu handles\n", wm_live_handles());
    return 1;
  }
  printf("ping-pong: %d rounds, port handed to a third thread, all handles freed\n", ROUNDS);
  return 0;
}
