/* Placeholder until the Keras config analyser lands. */
#include "formats/keras/keras.h"

bool wwi_keras_json_is_config(const void *json_root)
{
    (void)json_root;
    return false;
}

ww_status wwi_keras_config_scan(wwi_scan *s, const void *json_root, const char *where)
{
    (void)json_root;
    return wwi_scan_error(s, WW_E_UNSUPPORTED, UINT64_MAX, "%s: Keras config analysis not built",
                          where);
}
