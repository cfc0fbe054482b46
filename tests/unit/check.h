/* Tiny unit-test helpers: CHECK prints file:line and keeps going; main returns
 * the failure count. */
#ifndef WW_CHECK_H
#define WW_CHECK_H
#include <stdio.h>
#include <string.h>
static int check_failures, check_count;
#define CHECK(cond)                                                                   \
    do {                                                                              \
        check_count++;                                                                \
        if (!(cond)) {                                                                \
            check_failures++;                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                             \
    } while (0)
#define CHECK_STR(a, b) CHECK((a) != NULL && (b) != NULL && strcmp((a), (b)) == 0)
#define CHECK_DONE()                                                                  \
    (printf("%d checks, %d failed\n", check_count, check_failures), check_failures ? 1 : 0)
#endif
