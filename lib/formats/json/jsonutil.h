/* Helpers for modules that parse JSON with jansson (json, safetensors). */
#ifndef WWI_JSONUTIL_H
#define WWI_JSONUTIL_H
#include "weightwall.h"

/* Deepest nesting of '[' / '{' in a JSON text, strings skipped; counting
 * stops once it passes max. jansson recurses per level, so this runs before
 * any parse: a 100 MB "[[[[..." must not reach the parser. */
uint32_t wwi_json_depth(const uint8_t *p, size_t n, uint32_t max);
#endif
