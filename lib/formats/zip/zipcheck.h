/* Structure checks over the whole central directory that need no member
 * bytes: traversal names and symlinks, duplicate names, overlapping members
 * (non-recursive zip bombs) and unexplained gaps (hidden local entries). */
#ifndef WWI_ZIPCHECK_H
#define WWI_ZIPCHECK_H
#include "formats/zip/zipdir.h"

WW_NODISCARD ww_status wwi_zip_check_dir(wwi_scan *s, const wwi_zip_dir *d);
#endif
