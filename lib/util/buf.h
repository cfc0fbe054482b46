/* Growable byte buffer born with a cap (curl dynbuf style). Appending past the
 * cap fails with WW_E_LIMIT and frees the buffer. Always NUL-terminated. */
#ifndef WWI_BUF_H
#define WWI_BUF_H
#include "weightwall.h"

typedef struct wwi_buf {
    char *data;
    size_t len, cap, max;
} wwi_buf;

void wwi_buf_init(wwi_buf *b, size_t max);
void wwi_buf_free(wwi_buf *b);
void wwi_buf_reset(wwi_buf *b); /* len = 0, keeps memory */
WW_NODISCARD ww_status wwi_buf_add(wwi_buf *b, const void *p, size_t n);
WW_NODISCARD ww_status wwi_buf_addc(wwi_buf *b, char c);
WW_NODISCARD ww_status wwi_buf_adds(wwi_buf *b, const char *s);
WW_NODISCARD ww_status wwi_buf_printf(wwi_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hand the string to the caller (free with wwi_free); the buffer is emptied. */
char *wwi_buf_take(wwi_buf *b);
#endif
