/* hdf5: HDF5 files, and Keras 2 / tf.keras models stored in them (.h5,
 * .hdf5, legacy .keras). A Keras model keeps its architecture as JSON in the
 * root attributes model_config and training_config; loading it rebuilds
 * every layer, and Lambda layers carry marshalled Python bytecode that runs
 * (threats.md T-KERAS-H5-LAMBDA). An HDF5 file without those attributes is
 * plain array data: no code. Tensor datasets are never read. */
#include <jansson.h>
#include "formats/format.h"
#include "formats/hdf5/h5read.h"
#include "formats/keras/keras.h"
#include "util/alloc.h"
#include "util/strutil.h"

static const uint8_t h5_sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

/* The superblock is at 0 or, after a user block, at 512, 1024, 2048, ...;
 * the probe sees the first 4096 bytes. */
static int probe(const uint8_t *head, size_t n, uint64_t size)
{
    static const size_t offs[] = {0, 512, 1024, 2048};
    (void)size;
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++)
        if (n >= offs[i] + sizeof h5_sig && wwi_bytes_eq(head + offs[i], h5_sig, sizeof h5_sig))
            return i == 0 ? 100 : 90;
    return 0;
}

enum { A_MODEL, A_TRAINING, A_VERSION, A_COUNT };

static ww_status attr_status(wwi_scan *s, const wwi_h5_attr *a)
{
    if (a->st == WW_E_LIMIT)
        return wwi_scan_limit(s, "max_header_bytes", "%s", a->msg);
    return wwi_scan_error(s, a->st, UINT64_MAX, "%s", a->msg);
}

/* Parse one JSON attribute and hand it to the Keras config analyser. */
static ww_status keras_json(wwi_scan *s, const wwi_h5_attr *a)
{
    json_error_t jerr;
    json_t *root = json_loadb(a->text, a->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return wwi_scan_error(s, WW_E_FORMAT, UINT64_MAX,
                              "root attribute '%s' is not valid JSON: %s (line %d column %d)",
                              a->name, jerr.text, jerr.line, jerr.column);
    ww_status st = wwi_keras_config_scan(s, root, a->name);
    json_decref(root);
    return st;
}

static ww_status scan(wwi_scan *s, wwi_src *in)
{
    const ww_limits *lim = wwi_scan_limits(s);
    ww_status rc = WW_OK, st;
    wwi_h5_info info;
    wwi_h5_attr attrs[A_COUNT] = {
        [A_MODEL] = {.name = "model_config"},
        [A_TRAINING] = {.name = "training_config"},
        [A_VERSION] = {.name = "keras_version"},
    };

    /* Only the superblock, the root object header (with its continuation
     * blocks) and the global heap collections its strings point to are
     * viewed: never the datasets (h5read.c). */
    st = wwi_h5_read_root_attrs(in, attrs, A_COUNT, lim->max_header_bytes, lim->max_header_bytes,
                                &info);
    if (st == WW_E_LIMIT)
        rc = wwi_scan_limit(s, "max_header_bytes", "HDF5 root group: %s", info.err);
    else if (st != WW_OK)
        rc = wwi_scan_error(s, st, info.err_off, "HDF5 root group: %s", info.err);
    if (st == WW_E_NOMEM)
        goto done;
    /* Whatever was decoded before a structural error is still analysed: an
     * error never erases findings. */
    if (attrs[A_MODEL].present)
        wwi_scan_set_format(s, "keras_h5", true);
    if (attrs[A_VERSION].present && attrs[A_VERSION].st == WW_OK)
        wwi_finding(s, WW_SEV_NONE, "format", NULL, "keras_version", UINT64_MAX,
                    "declares keras_version '%.40s' (not used to decide safety)",
                    attrs[A_VERSION].text);
    for (size_t i = 0; i < A_COUNT; i++) {
        const wwi_h5_attr *a = &attrs[i];
        if (!a->present || (a->st == WW_OK && !a->text))
            continue; /* absent, or found but not reached before an error */
        /* Any Keras attribute we cannot decode is damage we do not understand. */
        if (a->st != WW_OK)
            st = attr_status(s, a);
        else
            st = i == A_VERSION ? WW_OK : keras_json(s, a);
        if (rc == WW_OK)
            rc = st;
        if (st == WW_E_NOMEM || st == WW_E_TIMEOUT)
            break;
    }
done:
    for (size_t i = 0; i < A_COUNT; i++)
        wwi_free(attrs[i].text);
    return rc;
}

const wwi_format wwi_format_hdf5 = {
    .name = "hdf5",
    .description = "HDF5 (Keras .h5 models: model_config, Lambda bytecode)",
    .scan = scan,
    .flags = 0,
    .probe = probe,
};
