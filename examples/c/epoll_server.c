/* An epoll loop serving several ports: a wm_loop's descriptor sits in an epoll set next to a
 * timer, producer threads post to four ports, and the loop's callbacks answer and count. One
 * client closes early: its onclose runs after its last message. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <webmessaging.h>

#define CLIENTS 4
#define PER_CLIENT 25

#define TRY(call)                                                                         \
  do {                                                                                    \
    wm_status s_ = (call);                                                                \
    if (s_ != WM_OK) {                                                                    \
      fprintf(stderr, "%s failed: %s: %s\n", #call, wm_status_str(s_), wm_last_error()); \
      exit(1);                                                                            \
    }                                                                                     \
  } while (0)

typedef struct {
  int id;
  int received;
  int closed;
  int total_sum;
} session;

static int open_sessions = CLIENTS;

static void on_message(void *userdata, wm_port *port, wm_message *msg) {
  session *s = userdata;
  wm_value *v;
  TRY(wm_message_value(msg, &v));
  double n = 0;
  TRY(wm_value_get_number(v, &n));
  TRY(wm_value_free(v));
  s->received++;
  s->total_sum += (int)n;
  char ack[48];
  snprintf(ack, sizeof ack, "{\"ack\":%d}", (int)n);
  TRY(wm_port_post_json(port, ack)); /* callbacks may call back in */
}

static void on_close(void *userdata, wm_port *port, wm_close_reason reason, bool by_peer) {
  session *s = userdata;
  s->closed = 1;
  open_sessions--;
  printf("session %d: closed (%s, by %s) after %d messages\n", s->id,
         reason == WM_CLOSE_CLOSED ? "closed" : reason == WM_CLOSE_DROPPED ? "dropped" : "doomed",
         by_peer ? "peer" : "us", s->received);
  TRY(wm_port_free(port)); /* freeing our own port inside its callback is fine */
}

static void release(void *userdata) {
  session *s = userdata;
  printf("session %d: finalizer\n", s->id);
}

typedef struct {
  wm_port *port;
  int id;
} client;

static void *client_main(void *arg) {
  client *c = arg;
  int n = c->id == 0 ? 5 : PER_CLIENT; /* client 0 leaves early */
  for (int i = 1; i <= n; i++) {
    char buf[16];
    snprintf(buf, sizeof buf, "%d", i);
    TRY(wm_port_post_json(c->port, buf));
  }
  int acks = 0;
  while (acks < n) {
    wm_message *m;
    TRY(wm_port_recv(c->port, 5000, &m));
    TRY(wm_message_free(m));
    acks++;
  }
  TRY(wm_port_close(c->port));
  TRY(wm_port_free(c->port));
  return NULL;
}

int main(void) {
  wm_loop *loop;
  TRY(wm_loop_new(&loop));
  int loop_fd;
  TRY(wm_loop_fd(loop, &loop_fd));

  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 1};
  epoll_ctl(ep, EPOLL_CTL_ADD, loop_fd, &ev);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  struct itimerspec its = {.it_interval = {0, 50 * 1000 * 1000}, .it_value = {0, 50 * 1000 * 1000}};
  timerfd_settime(tfd, 0, &its, NULL);
  struct epoll_event tev = {.events = EPOLLIN, .data.u32 = 2};
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);

  session sessions[CLIENTS];
  client clients[CLIENTS];
  pthread_t threads[CLIENTS];
  for (int i = 0; i < CLIENTS; i++) {
    wm_port *server_end, *client_end;
    TRY(wm_channel_new(&server_end, &client_end));
    sessions[i] = (session){.id = i};
    TRY(wm_loop_attach(loop, server_end, on_message, on_close, &sessions[i], release));
    clients[i] = (client){.port = client_end, .id = i};
    pthread_create(&threads[i], NULL, client_main, &clients[i]);
  }

  int ticks = 0, wakeups = 0;
  size_t dispatched_total = 0;
  while (open_sessions > 0 && ticks < 200) {
    struct epoll_event events[4];
    int n = epoll_wait(ep, events, 4, 1000);
    for (int i = 0; i < n; i++) {
      if (events[i].data.u32 == 1) {
        size_t done = 0;
        TRY(wm_loop_dispatch(loop, 32, &done)); /* a batch budget keeps the loop responsive */
        dispatched_total += done;
        wakeups++;
      } else {
        uint64_t expirations;
        if (read(tfd, &expirations, sizeof expirations) > 0) ticks++;
      }
    }
  }
  for (int i = 0; i < CLIENTS; i++) pthread_join(threads[i], NULL);
  int ok = open_sessions == 0;
  for (int i = 0; i < CLIENTS; i++) {
    int want = i == 0 ? 5 : PER_CLIENT;
    printf("session %d: %d messages, sum %d\n", i, sessions[i].received, sessions[i].total_sum);
    ok = ok && sessions[i].received == want && sessions[i].total_sum == want * (want + 1) / 2 &&
         sessions[i].closed;
  }
  printf("epoll: %zu callbacks over %d wakeups, %d timer ticks\n", dispatched_total, wakeups, ticks);
  TRY(wm_loop_free(loop));
  close(tfd);
  close(ep);
  if (!ok || wm_live_handles() != 0) {
    fprintf(stderr, "epoll server: unexpected result\n");
    return 1;
  }
  printf("epoll server: all sessions served and closed, all handles freed\n");
  return 0;
}
