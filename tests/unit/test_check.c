/* test_check: BS_ASSERT aborts a test build with the condition and place on stderr, and passes silently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/check.h"

static int calls;
static int count_call(void) { return ++calls; }

static void holds_is_silent_and_evaluated_once(void **state)
{
    (void)state;
    calls = 0;
    BS_ASSERT(count_call() == 1);
    assert_int_equal(calls, 1);
}

static void broken_invariant_aborts_with_its_place(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        int queue_len = 3;
        BS_ASSERT(queue_len == 0);
        _exit(0); /* not reached in a test build */
    }
    close(fds[1]);
    char out[512] = {0};
    size_t got = 0;
    ssize_t n;
    while (got < sizeof out - 1 && (n = read(fds[0], out + got, sizeof out - 1 - got)) > 0) got += (size_t)n;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(out, "invariant failed: queue_len == 0"));
    assert_non_null(strstr(out, "test_check.c"));
}

int main(void)
{
#ifndef BASALT_ASSERTS
    return 0; /* Release builds compile assertions out; the test builds run this */
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(holds_is_silent_and_evaluated_once),
        cmocka_unit_test(broken_invariant_aborts_with_its_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
