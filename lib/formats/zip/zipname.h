/* Member-name checks shared by the zip and archive (libarchive) modules:
 * path traversal, absolute names and link targets (T-ZIP-SLIP), and turning
 * raw name bytes into a printable layer name. */
#ifndef WWI_ZIPNAME_H
#define WWI_ZIPNAME_H
#include "core/scan.h"

/* Why a name would escape an extraction root, or NULL when it does not. */
const char *wwi_name_escape_reason(const uint8_t *name, size_t n);
/* True when a link stored at `member` pointing at `target` leaves the
 * extraction root. `relative_to_member`: symlinks resolve from the member's
 * directory, tar hardlinks from the archive root. */
bool wwi_link_escapes(const char *member, const char *target, bool relative_to_member);
/* Copy a raw member name into out (NUL-terminated, at most outlen-1 bytes),
 * replacing NUL and control bytes with '?' so it can be a layer name. Empty
 * names become "?". */
void wwi_name_printable(const uint8_t *name, size_t n, char *out, size_t outlen);
/* ASCII case-insensitive comparison of raw names (the way miniz, and so
 * PyTorch, looks members up). */
bool wwi_name_eq_ci(const uint8_t *a, size_t an, const char *b);
bool wwi_name_has_suffix_ci(const uint8_t *name, size_t n, const char *suffix);
#endif
