/* The format table, generated from formats.def, and detection by content. */
#include <string.h>
#include "formats/format.h"

static const wwi_format *const g_formats[] = {
#define WW_FORMAT(id) &wwi_format_##id,
#include "formats/formats.def"
#undef WW_FORMAT
};

size_t wwi_format_count(void)
{
    return sizeof g_formats / sizeof g_formats[0];
}

const wwi_format *wwi_format_at(size_t i)
{
    return i < wwi_format_count() ? g_formats[i] : NULL;
}

const wwi_format *wwi_format_by_name(const char *name)
{
    for (size_t i = 0; i < wwi_format_count(); i++)
        if (strcmp(g_formats[i]->name, name) == 0)
            return g_formats[i];
    return NULL;
}

const wwi_format *wwi_format_detect(const uint8_t *head, size_t n, uint64_t size)
{
    const wwi_format *best = NULL;
    int best_conf = 0;
    for (size_t i = 0; i < wwi_format_count(); i++) {
        const wwi_format *f = g_formats[i];
        if (!f->probe || (f->flags & WWI_FMT_PROBE_ONLY))
            continue;
        int c = f->probe(head, n, size);
        if (c > best_conf) {
            best_conf = c;
            best = f;
        }
    }
    return best;
}

bool ww_format_info(size_t i, const char **name, bool *code_capable, bool *built)
{
    const wwi_format *f = wwi_format_at(i);
    if (!f)
        return false;
    *name = f->name;
    *code_capable = (f->flags & WWI_FMT_CODE_CAPABLE) != 0;
    *built = f->scan != NULL;
    return true;
}
