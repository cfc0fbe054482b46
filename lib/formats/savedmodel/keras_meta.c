/* keras_metadata.pb: SavedMetadata{nodes: SavedObject{identifier, metadata}}
 * where metadata is the JSON config of each Keras object (a Lambda layer's
 * config carries marshalled Python code: T-KERAS-H5-LAMBDA). The JSON goes to
 * the Keras config analyser; what it cannot confirm is an error. */
#include <jansson.h>
#include <stdio.h>
#include "formats/keras/keras.h"
#include "formats/savedmodel/savedmodel.h"

static ww_status one_object(wwi_scan *s, wwi_cur *c, uint32_t max_depth, bool *reported)
{
    wwi_pb_field f;
    const uint8_t *meta = NULL, *ident = (const uint8_t *)"";
    size_t ml = 0, il = 0, moff = c->pos;
    while (wwi_pb_next(c, &f, max_depth)) {
        if (f.num != KERAS_OBJ_IDENTIFIER && f.num != KERAS_OBJ_METADATA)
            continue;
        if (f.wt != WWI_PB_LEN)
            return wwi_scan_error(s, WW_E_FORMAT, f.off, "keras_metadata: field %u is not a "
                                  "string", f.num);
        if (f.num == KERAS_OBJ_IDENTIFIER)
            ident = wwi_pb_data(c, &f), il = f.len;
        else
            meta = wwi_pb_data(c, &f), ml = f.len, moff = f.data_off;
    }
    if (c->err != WW_OK)
        return wwi_tf_fail(s, c, "keras_metadata object");
    if (!meta || ml == 0)
        return WW_OK;
    char where[200];
    char pid[100];
    wwi_printable(ident, il, pid, sizeof pid);
    snprintf(where, sizeof where, "keras_metadata object '%s' at offset %zu", pid, moff);
    if (ml > wwi_scan_limits(s)->max_header_bytes)
        return wwi_scan_limit(s, "max_header_bytes", "%s: %zu bytes of JSON", where, ml);
    json_error_t err;
    json_t *root = json_loadb((const char *)meta, ml, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return wwi_scan_error(s, WW_E_FORMAT, moff, "%s: metadata is not JSON: %s", where,
                              err.text);
    ww_status st = WW_OK;
    if (wwi_keras_json_is_config(root)) {
        st = wwi_keras_config_scan(s, root, where);
    } else if (json_is_object(root) && json_object_get(root, "class_name") && !*reported) {
        /* A Keras object the analyser did not accept: never silently clean. */
        *reported = true;
        st = wwi_scan_error(s, WW_E_UNSUPPORTED, moff, "%s: Keras config not analysed", where);
    }
    json_decref(root);
    return st;
}

ww_status wwi_tf_keras_meta(wwi_scan *s, wwi_cur *c, uint32_t max_depth)
{
    wwi_pb_field f;
    ww_status st = WW_OK;
    bool reported = false;
    while (wwi_pb_next(c, &f, max_depth)) {
        if (f.num != KERAS_META_NODES)
            continue;
        if (f.wt != WWI_PB_LEN)
            return wwi_scan_error(s, WW_E_FORMAT, f.off, "keras_metadata: bad node");
        wwi_cur sub;
        wwi_pb_sub(c, &f, &sub);
        st = one_object(s, &sub, max_depth, &reported);
        if (st == WW_E_NOMEM || st == WW_E_TIMEOUT)
            return st;
        st = wwi_scan_check_time(s);
        if (st != WW_OK)
            return st;
    }
    if (c->err != WW_OK)
        return wwi_tf_fail(s, c, "keras_metadata");
    return WW_OK;
}
