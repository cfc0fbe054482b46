/* Detection of tar, 7z, gzip, bzip2, xz, zstd, lz4 and lzma-alone by content. */
#ifndef WWI_ARCHIVE_PROBE_H
#define WWI_ARCHIVE_PROBE_H
#include "weightwall.h"

int wwi_archive_probe(const uint8_t *head, size_t n, uint64_t size);
#endif
