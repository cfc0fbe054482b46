/* wwi_src: a random-access input source. Local files are mmapped (views are
 * zero-copy pointers into the mapping); front-end sources (HTTP ranges) are
 * read on demand. Either way a format module asks only for the bytes it needs:
 * a zip's central directory and its pickle members, never the tensor data.
 *
 * Lifetime: every pointer returned by wwi_src_view stays valid until the
 * source (or its root source) is freed. Views of a callback source are kept in
 * memory for that long, so ask for what you need, not the whole file. */
#ifndef WWI_SRC_H
#define WWI_SRC_H
#include "weightwall.h"

typedef struct wwi_src wwi_src;

uint64_t wwi_src_size(const wwi_src *s);
/* Bytes [off, off+len) of the source. TRUNCATED if the range passes the end;
 * callers clamp with wwi_src_size first when they want "up to". */
WW_NODISCARD ww_status wwi_src_view(wwi_src *s, uint64_t off, size_t len, const uint8_t **out);
/* Whole source as one view; LIMIT if larger than max. */
WW_NODISCARD ww_status wwi_src_view_all(wwi_src *s, uint64_t max, const uint8_t **out);
/* True when views cost nothing (memory/mmap): modules may then view freely. */
bool wwi_src_is_memory(const wwi_src *s);

/* Constructors. Memory sources borrow `data` (it must outlive the source). */
WW_NODISCARD ww_status wwi_src_memory(const void *data, size_t len, wwi_src **out);
/* Memory source that owns `data` (freed with wwi_free when the source is). */
WW_NODISCARD ww_status wwi_src_memory_owned(void *data, size_t len, wwi_src **out);
WW_NODISCARD ww_status wwi_src_file(const char *path, wwi_src **out, char *err, size_t errlen);
/* Map an open descriptor (not closed; the mapping outlives it). */
WW_NODISCARD ww_status wwi_src_fd(int fd, wwi_src **out, char *err, size_t errlen);
WW_NODISCARD ww_status wwi_src_callback(ww_source *cb, wwi_src **out);
/* A window [off, off+len) of parent, sharing its views; parent must outlive it. */
WW_NODISCARD ww_status wwi_src_sub(wwi_src *parent, uint64_t off, uint64_t len, wwi_src **out);
void wwi_src_free(wwi_src *s);
/* Bytes actually read from the underlying storage/network (root source). */
uint64_t wwi_src_bytes_read(const wwi_src *s);
#endif
