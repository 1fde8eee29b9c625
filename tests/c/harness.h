/* A tiny test harness for the C tests: TEST(name) functions, CHECK macros, and a closing line
 * "N passed, N failed" that test runners recognise. Each test binary runs all its tests in
 * order; a failed CHECK fails the current test and goes on with the next test. */
#ifndef WM_TEST_HARNESS_H
#define WM_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webmessaging.h"

static int harness_failed_checks;
static int harness_passed, harness_failed;

#define CHECK(cond)                                                                         \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      fprintf(stderr, "  %s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__,   \
              #cond, wm_last_error());                                                      \
      harness_failed_checks++;                                                              \
    }                                                                                       \
  } while (0)

/* Checks that a call returns the expected status, printing both names when it does not. */
#define CHECK_STATUS(call, expected)                                                        \
  do {                                                                                      \
    wm_status check_got_ = (call);                                                          \
    wm_status check_want_ = (expected);                                                     \
    if (check_got_ != check_want_) {                                                        \
      fprintf(stderr, "  %s:%d: %s returned %s, expected %s (last error: %s)\n", __FILE__, \
              __LINE__, #call, wm_status_str(check_got_), wm_status_str(check_want_),       \
              wm_last_error());                                                             \
      harness_failed_checks++;                                                              \
    }                                                                                       \
  } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, WM_OK)

/* Aborts the current test when the condition is false (for preconditions of later steps). */
#define REQUIRE(cond)                                                                       \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      fprintf(stderr, "  %s:%d: REQUIRE failed: %s (last error: %s)\n", __FILE__, __LINE__, \
              #cond, wm_last_error());                                                      \
      harness_failed_checks++;                                                              \
      return;                                                                               \
    }                                                                                       \
  } while (0)

#define CHECK_STR(got, want)                                                                \
  do {                                                                                      \
    const char *check_g_ = (got), *check_w_ = (want);                                       \
    if (check_g_ == NULL || strcmp(check_g_, check_w_) != 0) {                              \
      fprintf(stderr, "  %s:%d: got \"%s\", expected \"%s\"\n", __FILE__, __LINE__,         \
              check_g_ ? check_g_ : "(null)", check_w_);                                    \
      harness_failed_checks++;                                                              \
    }                                                                                       \
  } while (0)

typedef void (*harness_fn)(void);

static inline void harness_run(const char *name, harness_fn fn) {
  int before = harness_failed_checks;
  fn();
  /* Every test frees everything it made: no handle may outlive it. */
  size_t live = wm_live_handles();
  if (live != 0) {
    fprintf(stderr, "  %s: %zu handle(s) still live after the test\n", name, live);
    harness_failed_checks++;
  }
  if (harness_failed_checks == before) {
    harness_passed++;
    printf("ok   %s\n", name);
  } else {
    harness_failed++;
    printf("FAIL %s\n", name);
  }
  fflush(stdout);
}

#define RUN(fn) harness_run(#fn, fn)

static inline int harness_finish(const char *suite) {
  printf("%s: %d passed, %d failed\n", suite, harness_passed, harness_failed);
  return harness_failed == 0 ? 0 : 1;
}

/* Loop counts shrink under valgrind (WM_TEST_SCALE=valgrind), which is ~50x slower. */
static inline int scaled(int n) {
  const char *s = getenv("WM_TEST_SCALE");
  if (s != NULL && strcmp(s, "valgrind") == 0) {
    return n / 10 > 0 ? n / 10 : 1;
  }
  return n;
}

#endif
