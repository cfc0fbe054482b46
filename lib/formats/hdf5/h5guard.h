/* Checks run on an HDF5 image before libhdf5 sees it, for structures that
 * make Debian's libhdf5 (1.10) loop forever instead of failing. */
#ifndef WWI_H5GUARD_H
#define WWI_H5GUARD_H
#include "weightwall.h"

/* WW_OK, or FORMAT with *bad_off set at the first structure libhdf5 would
 * hang on. */
WW_NODISCARD ww_status wwi_h5_guard(const uint8_t *img, size_t len, uint64_t *bad_off);
#endif
