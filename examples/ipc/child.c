/* The C child of the cross-language demo (examples/ipc/main.py starts it).
 *
 * Its parent gives it a port at spawn time. On it comes {cmd: "talk"} carrying a second port
 * whose other end lives in the Node child: this child waits for one message there, answers it
 * directly (no parent in between), then reports to its parent what it heard and exits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <webmessaging.h>

#define TRY(call)                                                                           \
  do {                                                                                      \
    wm_status s_ = (call);                                                                  \
    if (s_ != WM_OK) {                                                                      \
      fprintf(stderr, "child-c: %s: %s: %s\n", #call, wm_status_str(s_), wm_last_error()); \
      exit(1);                                                                              \
    }                                                                                       \
  } while (0)

int main(void) {
  wm_port *parent, *peer;
  wm_message *talk, *heard;
  TRY(wm_parent_port(&parent)); /* WM_ERR_NOT_FOUND when not started by a parent */
  TRY(wm_port_recv(parent, -1, &talk));
  wm_value *command, *cmd;
  char *name;
  TRY(wm_message_value(talk, &command));
  TRY(wm_value_object_get(command, "cmd", &cmd));
  TRY(wm_value_get_string(cmd, &name, NULL));
  if (strcmp(name, "talk") != 0) {
    fprintf(stderr, "child-c: expected {cmd: \"talk\"}, got cmd \"%s\"\n", name);
    return 1;
  }
  wm_string_free(name);
  wm_value_free(cmd);
  wm_value_free(command);
  TRY(wm_message_take_port(talk, 0, &peer));
  TRY(wm_message_free(talk));

  TRY(wm_port_recv(peer, -1, &heard)); /* from the Node child */
  TRY(wm_port_post_json(peer, "{\"from\":\"c\",\"text\":\"hello from C\"}"));

  /* {from: "c", got: <what the Node child said>}, the received value kept as it came. */
  wm_value *got, *report, *from;
  TRY(wm_message_value(heard, &got));
  TRY(wm_value_new_object(&report));
  TRY(wm_value_new_string("c", 1, &from));
  TRY(wm_value_object_set(report, "from", from));
  TRY(wm_value_object_set(report, "got", got));
  TRY(wm_port_post(parent, report, NULL, 0));

  wm_value_free(from);
  wm_value_free(got);
  wm_value_free(report);
  wm_message_free(heard);
  TRY(wm_port_close(peer)); /* everything posted is still delivered */
  TRY(wm_port_close(parent));
  wm_port_free(peer);
  wm_port_free(parent);
  return 0;
}
