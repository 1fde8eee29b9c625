/* The C agent and driver of the cross-language matrix (docs: IPC agent protocol).
 *
 * Agent mode (this process was spawned with a parent port): serve the commands `echo`,
 * `stream`, `collect` and `exit` on the parent port.
 * Driver mode (`agent-c <child-lang> <third-lang>`, langs c/python/node): spawn a child agent Q
 * and a third agent R, echo every plain golden vector through Q and compare, then stream N
 * numbered messages from R into a port that moves from this process to Q and back, and check
 * that nothing was lost, duplicated or reordered.
 *
 * Environment: WM_AGENT_C / WM_AGENT_PY / WM_AGENT_NODE (JSON arrays: the argv that starts that
 * language's agent; C defaults to this program), WM_VECTORS (the golden vectors file). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <webmessaging.h>

#define STREAM_N 20000
#define HANDOFF_K 5000
/* No single step of the protocol takes this long unless something is broken. */
#define STEP_MS 60000

static const char *self_path;
static int child_pids[2] = {-1, -1};

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "agent-c (pid %d): ", (int)getpid());
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  for (int i = 0; i < 2; i++) {
    if (child_pids[i] > 0) kill(child_pids[i], SIGKILL);
  }
  exit(1);
}

static void try_(wm_status s, const char *what) {
  if (s != WM_OK) die("%s: %s: %s", what, wm_status_str(s), wm_last_error());
}
#define TRY(call) try_((call), #call)

/* ---- small value helpers ----------------------------------------------------------------- */

/* The string property `key` of `obj` as a new C string (wm_string_free), or NULL. */
static char *get_string(const wm_value *obj, const char *key) {
  wm_value *v = NULL;
  char *s = NULL;
  if (wm_value_object_get(obj, key, &v) == WM_OK) wm_value_get_string(v, &s, NULL);
  wm_value_free(v);
  return s;
}

/* The number property `key` of `obj`, or `fallback`. */
static double get_number(const wm_value *obj, const char *key, double fallback) {
  wm_value *v = NULL;
  double d = fallback;
  if (wm_value_object_get(obj, key, &v) == WM_OK && wm_value_get_number(v, &d) != WM_OK) {
    d = fallback;
  }
  wm_value_free(v);
  return d;
}

static void set_string(wm_value *obj, const char *key, const char *s) {
  wm_value *v;
  TRY(wm_value_new_string(s, strlen(s), &v));
  TRY(wm_value_object_set(obj, key, v));
  wm_value_free(v);
}

static wm_message *recv_or_die(wm_port *p, const char *what) {
  wm_message *m = NULL;
  wm_status s = wm_port_recv(p, STEP_MS, &m);
  if (s != WM_OK) die("waiting for %s: %s: %s", what, wm_status_str(s), wm_last_error());
  return m;
}

/* ---- agent mode -------------------------------------------------------------------------- */

static void serve_echo(wm_port *parent, const wm_value *root) {
  char *name = get_string(root, "name");
  wm_value *value = NULL, *reply;
  TRY(wm_value_new_object(&reply));
  if (wm_value_object_get(root, "value", &value) == WM_OK) {
    set_string(reply, "cmd", "echo");
    set_string(reply, "name", name ? name : "");
    TRY(wm_value_object_set(reply, "value", value));
  } else {
    set_string(reply, "cmd", "unreadable");
    set_string(reply, "name", name ? name : "");
    set_string(reply, "error", wm_last_error());
  }
  TRY(wm_port_post(parent, reply, NULL, 0));
  wm_value_free(value);
  wm_value_free(reply);
  wm_string_free(name);
}

static void serve_stream(wm_port *parent, wm_message *m, long n) {
  wm_port *q;
  TRY(wm_message_take_port(m, 0, &q));
  char text[64];
  for (long i = 1; i <= n; i++) {
    snprintf(text, sizeof text, "{\"seq\":%ld}", i);
    TRY(wm_port_post_json(q, text));
  }
  TRY(wm_port_close(q));
  TRY(wm_port_free(q));
  snprintf(text, sizeof text, "{\"cmd\":\"streamed\",\"n\":%ld}", n);
  TRY(wm_port_post_json(parent, text));
}

static void serve_collect(wm_port *parent, wm_message *m, long handoff) {
  wm_port *q;
  TRY(wm_message_take_port(m, 0, &q));
  /* {"cmd":"handoff","seqs":[...]}: at most 21 bytes a number. */
  size_t cap = 64 + (size_t)handoff * 22, used = 0;
  char *json = malloc(cap);
  if (json == NULL) die("out of memory");
  used += (size_t)snprintf(json, cap, "{\"cmd\":\"handoff\",\"seqs\":[");
  for (long i = 0; i < handoff; i++) {
    wm_message *x = recv_or_die(q, "a streamed message");
    wm_value *v;
    TRY(wm_message_value(x, &v));
    double seq = get_number(v, "seq", -1);
    used += (size_t)snprintf(json + used, cap - used, "%s%.0f", i ? "," : "", seq);
    wm_value_free(v);
    wm_message_free(x);
  }
  snprintf(json + used, cap - used, "]}");
  TRY(wm_port_post_json_transfer(parent, json, &q, 1));
  free(json);
  TRY(wm_port_free(q));
}

static int serve(wm_port *parent) {
  for (;;) {
    wm_message *m = NULL;
    wm_status s = wm_port_recv(parent, -1, &m);
    if (s != WM_OK) die("parent port: %s: %s", wm_status_str(s), wm_last_error());
    wm_value *root = NULL;
    s = wm_message_value(m, &root);
    if (s != WM_OK) {
      /* Not even the command can be read: say so as an unreadable echo. */
      char text[512];
      snprintf(text, sizeof text, "{\"cmd\":\"unreadable\",\"name\":\"\",\"error\":\"%s\"}",
               wm_status_str(s));
      TRY(wm_port_post_json(parent, text));
      wm_message_free(m);
      continue;
    }
    char *cmd = get_string(root, "cmd");
    if (cmd == NULL) die("a command without a string `cmd`");
    int done = 0;
    if (strcmp(cmd, "echo") == 0) {
      serve_echo(parent, root);
    } else if (strcmp(cmd, "stream") == 0) {
      serve_stream(parent, m, (long)get_number(root, "n", 0));
    } else if (strcmp(cmd, "collect") == 0) {
      serve_collect(parent, m, (long)get_number(root, "handoff", 0));
    } else if (strcmp(cmd, "exit") == 0) {
      done = 1;
    } else {
      die("unknown command `%s`", cmd);
    }
    wm_string_free(cmd);
    wm_value_free(root);
    wm_message_free(m);
    if (done) break;
  }
  TRY(wm_port_close(parent));
  TRY(wm_port_free(parent));
  return 0;
}

/* ---- driver mode ------------------------------------------------------------------------- */

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) die("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) die("cannot read %s", path);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* Spawns `lang`'s agent, from its WM_AGENT_* argv (C: this program by default). */
static wm_port *spawn_agent(const char *lang, int *pid) {
  const char *var = strcmp(lang, "c") == 0        ? "WM_AGENT_C"
                    : strcmp(lang, "python") == 0 ? "WM_AGENT_PY"
                    : strcmp(lang, "node") == 0   ? "WM_AGENT_NODE"
                                                  : NULL;
  if (var == NULL) die("unknown language `%s` (c, python, node)", lang);
  const char *json = getenv(var);
  char *argv[64] = {NULL};
  size_t argc = 0;
  if (json == NULL || *json == '\0') {
    if (strcmp(lang, "c") != 0) die("%s is not set", var);
    argv[argc++] = strdup(self_path);
  } else {
    wm_value *list;
    TRY(wm_value_from_json(json, &list));
    size_t n = 0;
    TRY(wm_value_length(list, &n));
    if (n == 0 || n >= 63) die("%s: expected a JSON array of 1 to 62 strings", var);
    for (size_t i = 0; i < n; i++) {
      wm_value *item;
      TRY(wm_value_array_get(list, i, &item));
      char *s = NULL;
      if (wm_value_get_string(item, &s, NULL) != WM_OK) die("%s[%zu] is not a string", var, i);
      argv[argc++] = strdup(s);
      wm_string_free(s);
      wm_value_free(item);
    }
    wm_value_free(list);
  }
  wm_port *port;
  wm_status s = wm_spawn((const char *const *)argv, NULL, pid, &port);
  if (s != WM_OK) die("spawning the %s agent (%s): %s", lang, argv[0], wm_last_error());
  for (size_t i = 0; i < argc; i++) free(argv[i]);
  return port;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* A local channel whose one end decodes wire bytes into values and whose other end gives the
 * canonical encoding of a value. */
static wm_port *local_in, *local_out;

/* The value the wire bytes `hex` decode to here, or NULL when this library cannot read them. */
static wm_value *decode_hex(const char *hex) {
  size_t n = strlen(hex) / 2;
  uint8_t *bytes = malloc(n ? n : 1);
  if (bytes == NULL) die("out of memory");
  for (size_t i = 0; i < n; i++) {
    int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) die("bad hex in the vectors file");
    bytes[i] = (uint8_t)(hi << 4 | lo);
  }
  TRY(wm_port_post_serialized(local_in, bytes, n, NULL, 0));
  free(bytes);
  wm_message *m;
  TRY(wm_port_recv(local_out, 0, &m));
  wm_value *v = NULL;
  if (wm_message_value(m, &v) != WM_OK) v = NULL;
  wm_message_free(m);
  return v;
}

/* The encoding of `v` by this library's serializer (a new buffer, `*len` bytes), to show what
 * differed when a value came back changed. */
static uint8_t *canonical(const wm_value *v, size_t *len) {
  TRY(wm_port_post(local_in, v, NULL, 0));
  wm_message *m;
  TRY(wm_port_recv(local_out, 0, &m));
  const uint8_t *data;
  TRY(wm_message_serialized(m, &data, len));
  uint8_t *copy = malloc(*len ? *len : 1);
  if (copy == NULL) die("out of memory");
  memcpy(copy, data, *len);
  wm_message_free(m);
  return copy;
}

static void print_hex(const char *label, const uint8_t *b, size_t n) {
  fprintf(stderr, "  %s: ", label);
  for (size_t i = 0; i < n; i++) fprintf(stderr, "%02x", b[i]);
  fprintf(stderr, "\n");
}

/* Echoes every plain vector through q. Returns how many came back equal; appends the skipped
 * ones' names to `skipped` and counts them. */
static int echo_vectors(wm_port *q, const char *lang, char *skipped, size_t cap, int *n_skipped) {
  const char *path = getenv("WM_VECTORS");
  if (path == NULL) die("WM_VECTORS is not set");
  char *text = read_file(path);
  wm_value *file, *vectors;
  TRY(wm_value_from_json(text, &file));
  free(text);
  TRY(wm_value_object_get(file, "vectors", &vectors));
  size_t n = 0;
  TRY(wm_value_length(vectors, &n));
  int equal = 0;
  for (size_t i = 0; i < n; i++) {
    wm_value *vec;
    TRY(wm_value_array_get(vectors, i, &vec));
    char *mode = get_string(vec, "mode"), *name = get_string(vec, "name");
    char *hex = get_string(vec, "hex");
    if (mode == NULL || name == NULL || hex == NULL) die("vector %zu lacks mode/name/hex", i);
    const char *why_skipped = NULL;
    wm_value *original = NULL;
    if (strcmp(mode, "plain") == 0) {
      original = decode_hex(hex);
      if (original == NULL) why_skipped = "c";
    }
    if (original != NULL) {
      wm_value *req;
      TRY(wm_value_new_object(&req));
      set_string(req, "cmd", "echo");
      set_string(req, "name", name);
      TRY(wm_value_object_set(req, "value", original));
      TRY(wm_port_post(q, req, NULL, 0));
      wm_value_free(req);
      wm_message *m = recv_or_die(q, "an echo");
      wm_value *reply, *back = NULL;
      TRY(wm_message_value(m, &reply));
      char *cmd = get_string(reply, "cmd"), *rname = get_string(reply, "name");
      /* Replies pair with requests in order; an agent that could not read the request at all
       * cannot name it (null, or "" from a C agent). */
      int nameless = cmd != NULL && strcmp(cmd, "unreadable") == 0 &&
                     (rname == NULL || rname[0] == '\0');
      if (cmd == NULL || (!nameless && (rname == NULL || strcmp(rname, name) != 0))) {
        die("echo of `%s`: the reply has cmd `%s`, name `%s`", name, cmd ? cmd : "?",
            rname ? rname : "?");
      }
      if (strcmp(cmd, "unreadable") == 0) {
        why_skipped = lang;
      } else if (strcmp(cmd, "echo") == 0 && wm_value_object_get(reply, "value", &back) == WM_OK) {
        /* Deep structural equality (SameValue, holes, shared references and cycles). */
        bool same = false;
        TRY(wm_value_equal(original, back, &same));
        if (!same) {
          size_t la, lb;
          uint8_t *a = canonical(original, &la), *b = canonical(back, &lb);
          fprintf(stderr, "agent-c: `%s` came back from %s changed (as this library encodes "
                          "them):\n", name, lang);
          print_hex("sent    ", a, la);
          print_hex("received", b, lb);
          die("value mismatch for `%s`", name);
        }
        equal++;
      } else {
        die("echo of `%s`: unexpected reply `%s`", name, cmd);
      }
      wm_value_free(back);
      wm_string_free(cmd);
      wm_string_free(rname);
      wm_value_free(reply);
      wm_message_free(m);
      wm_value_free(original);
    }
    if (why_skipped != NULL) {
      (*n_skipped)++;
      size_t used = strlen(skipped);
      snprintf(skipped + used, cap - used, "%s%s (%s)", used ? ", " : "", name, why_skipped);
    }
    wm_string_free(mode);
    wm_string_free(name);
    wm_string_free(hex);
    wm_value_free(vec);
  }
  wm_value_free(vectors);
  wm_value_free(file);
  return equal;
}

/* The `seq` of a message's value, or -1. */
static long seq_of(wm_message *m) {
  wm_value *v;
  if (wm_message_value(m, &v) != WM_OK) return -1;
  long seq = (long)get_number(v, "seq", -1);
  wm_value_free(v);
  return seq;
}

/* The stream across a moving port: R streams into m2, Q collects HANDOFF_K from m1 and hands
 * m1 back to us, we take the rest and the close. */
static void stream_across_a_moving_port(wm_port *q, wm_port *r) {
  wm_port *m1, *m2;
  TRY(wm_channel_new(&m1, &m2));
  char text[128];
  snprintf(text, sizeof text, "{\"cmd\":\"collect\",\"n\":%d,\"handoff\":%d}", STREAM_N,
           HANDOFF_K);
  TRY(wm_port_post_json_transfer(q, text, &m1, 1));
  snprintf(text, sizeof text, "{\"cmd\":\"stream\",\"n\":%d}", STREAM_N);
  TRY(wm_port_post_json_transfer(r, text, &m2, 1));
  TRY(wm_port_free(m1));
  TRY(wm_port_free(m2));

  wm_message *m = recv_or_die(q, "the handoff");
  wm_value *reply, *seqs;
  TRY(wm_message_value(m, &reply));
  char *cmd = get_string(reply, "cmd");
  if (cmd == NULL || strcmp(cmd, "handoff") != 0) die("expected `handoff`, got `%s`", cmd);
  wm_string_free(cmd);
  TRY(wm_value_object_get(reply, "seqs", &seqs));
  size_t k = 0;
  TRY(wm_value_length(seqs, &k));
  if (k != HANDOFF_K) die("the handoff carries %zu seqs, not %d", k, HANDOFF_K);
  for (size_t i = 0; i < k; i++) {
    wm_value *item;
    double d = -1;
    TRY(wm_value_array_get(seqs, i, &item));
    wm_value_get_number(item, &d);
    wm_value_free(item);
    if ((long)d != (long)i + 1) die("the collector got seq %.0f at position %zu", d, i + 1);
  }
  wm_value_free(seqs);
  wm_value_free(reply);
  wm_port *p;
  TRY(wm_message_take_port(m, 0, &p));
  wm_message_free(m);

  for (long want = HANDOFF_K + 1; want <= STREAM_N; want++) {
    wm_message *x = recv_or_die(p, "a streamed message");
    long seq = seq_of(x);
    wm_message_free(x);
    if (seq != want) die("expected seq %ld after the handoff, got %ld", want, seq);
  }
  wm_message *extra = NULL;
  wm_status s = wm_port_recv(p, STEP_MS, &extra);
  if (s != WM_ERR_CLOSED) {
    die("after seq %d: expected the close, got %s (seq %ld)", STREAM_N, wm_status_str(s),
        s == WM_OK ? seq_of(extra) : 0);
  }
  TRY(wm_port_free(p));

  m = recv_or_die(r, "`streamed`");
  TRY(wm_message_value(m, &reply));
  cmd = get_string(reply, "cmd");
  if (cmd == NULL || strcmp(cmd, "streamed") != 0 || get_number(reply, "n", 0) != STREAM_N) {
    die("expected {cmd: \"streamed\", n: %d} from the third agent", STREAM_N);
  }
  wm_string_free(cmd);
  wm_value_free(reply);
  wm_message_free(m);
}

static void wait_exit(int pid, const char *who) {
  for (int waited = 0; waited < STEP_MS; waited += 10) {
    int st;
    pid_t got = waitpid(pid, &st, WNOHANG);
    if (got == pid) {
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) die("the %s agent exited with status %d", who, st);
      return;
    }
    struct timespec t = {0, 10000000L};
    nanosleep(&t, NULL);
  }
  die("the %s agent did not exit", who);
}

static int drive(const char *child_lang, const char *third_lang) {
  TRY(wm_channel_new(&local_in, &local_out));
  wm_port *q = spawn_agent(child_lang, &child_pids[0]);
  wm_port *r = spawn_agent(third_lang, &child_pids[1]);

  static char skipped[16384];
  int n_skipped = 0;
  int equal = echo_vectors(q, child_lang, skipped, sizeof skipped, &n_skipped);
  stream_across_a_moving_port(q, r);

  TRY(wm_port_post_json(q, "{\"cmd\":\"exit\"}"));
  TRY(wm_port_post_json(r, "{\"cmd\":\"exit\"}"));
  wait_exit(child_pids[0], child_lang);
  wait_exit(child_pids[1], third_lang);
  child_pids[0] = child_pids[1] = -1;
  TRY(wm_port_free(q));
  TRY(wm_port_free(r));
  TRY(wm_port_free(local_in));
  TRY(wm_port_free(local_out));
  printf("matrix c->%s (third %s): %d values exchanged, %d skipped [%s], %d streamed across a "
         "moving port: OK\n",
         child_lang, third_lang, equal, n_skipped, skipped, STREAM_N);
  return 0;
}

int main(int argc, char **argv) {
  /* Absolute, so the C agent can be spawned from any working directory. */
  static char resolved[4096];
  self_path = realpath(argv[0], resolved) ? resolved : argv[0];
  wm_port *parent;
  wm_status s = wm_parent_port(&parent);
  if (s == WM_OK) return serve(parent);
  if (s != WM_ERR_NOT_FOUND) die("wm_parent_port: %s", wm_last_error());
  if (argc != 3) {
    fprintf(stderr, "usage: %s <child-lang> <third-lang>   (langs: c, python, node)\n", argv[0]);
    return 2;
  }
  return drive(argv[1], argv[2]);
}
