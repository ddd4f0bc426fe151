/* check: invariants that abort in test builds.
 * BS_ASSERT(cond) states something that holds unless Basalt itself is wrong (a queue's shape, a counter
 * within its bound, a hand-off done once, a per-thread structure touched only by its thread). In the test
 * builds (Debug, Sanitize, Thread: BASALT_ASSERTS is defined) a false condition prints the condition, file,
 * line and function to stderr and aborts, so the sanitizer run that reaches it fails. In Release the
 * condition is not evaluated (it only has to compile), so an assertion costs nothing on a hot path.
 * Errors a client or the environment can cause are returned through bs_err, never asserted. */
#ifndef BASALT_UTIL_CHECK_H
#define BASALT_UTIL_CHECK_H

/* Prints "invariant failed: COND (FILE:LINE, FUNC)" to stderr and aborts. */
_Noreturn void bs_assert_fail(const char *cond, const char *file, int line, const char *func);

#ifdef BASALT_ASSERTS
#define BS_ASSERT(cond) ((cond) ? (void)0 : bs_assert_fail(#cond, __FILE__, __LINE__, __func__))
#else
#define BS_ASSERT(cond) ((void)sizeof(!(cond)))
#endif

#endif
