/* The built-in globals table (globals.def), exposed for tests and docs. */
#ifndef WWI_PK_GLOBALS_H
#define WWI_PK_GLOBALS_H
#include "core/engine.h"

size_t wwi_globals_count(void);
const wwi_global_rule *wwi_globals_row(size_t i);
#endif
