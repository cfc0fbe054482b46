/* gguf: placeholder module (detection only). */
#include "formats/format.h"

static int probe(const uint8_t *head, size_t n, uint64_t size)
{
    (void)head;
    (void)n;
    (void)size;
    return 0;
}

const wwi_format wwi_format_gguf = {
    .name = "gguf",
    .description = "gguf (not implemented yet)",
    .flags = 0,
    .probe = probe,
    .scan = NULL,
};
