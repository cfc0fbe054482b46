/* ggml tensor types: elements per block and bytes per block, from ggml's
 * type_traits (ggml/src/ggml.c). Used only to bound-check tensor data ranges;
 * a type missing here makes the scan fail closed (UNSUPPORTED). */
#ifndef WWI_GGML_TYPES_H
#define WWI_GGML_TYPES_H
#include "weightwall.h"

typedef struct ggml_type_info {
    const char *name;
    uint32_t block; /* elements per block */
    uint32_t bytes; /* bytes per block */
} ggml_type_info;

/* NULL for an id this table does not know (or a removed type). */
const ggml_type_info *wwi_ggml_type(uint32_t id);
#endif
