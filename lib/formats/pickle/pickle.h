/* Interface of the pickle engine to other modules (torch zip, numpy, legacy
 * torch, joblib). Containers reach it through wwi_scan_nested_as(s, src,
 * name, "pickle"), optionally after wwi_scan_set_hint(s, &hint). */
#ifndef WWI_PICKLE_H
#define WWI_PICKLE_H
#include "core/scan.h"

/* Optional hint a parent passes to the pickle module for the next nested
 * layer. All fields are optional; zero-initialise. */
typedef struct wwi_pickle_hint {
    /* Out: storage keys named by persistent ids ('storage', type, KEY, ...) of
     * a torch pickle, so the torch zip knows which members are raw tensor data.
     * Allocated with wwi_malloc (array and strings); the parent frees them with
     * wwi_pickle_hint_clear. */
    char **storage_keys;
    size_t n_storage_keys;
    /* In: stream is a joblib pickle (raw numpy array bytes follow
     * NumpyArrayWrapper BUILDs and must be skipped, not parsed as opcodes). */
    bool joblib;
    /* Out: number of bytes consumed by the first pickle (up to and including
     * its STOP), for legacy torch which stores raw data after its pickles. */
    uint64_t consumed;
    /* In: stop after this many pickles (0 = read stacked pickles to the end). */
    uint32_t max_pickles;
    /* In: the stream is a pickle member of a TorchScript archive: `__torch__.*`
     * classes and `torch.jit._pickle.*` helpers are allowed (T-TORCHSCRIPT). */
    bool torchscript;
} wwi_pickle_hint;

void wwi_pickle_hint_clear(wwi_pickle_hint *h);

/* Scan `len` bytes at `data` as pickle stream(s) in the current layer, without
 * pushing a new layer (used by modules that are themselves pickle framings,
 * such as legacy torch). Same findings and errors as the "pickle" module. */
WW_NODISCARD ww_status wwi_pickle_scan_bytes(wwi_scan *s, const uint8_t *data, size_t len,
                                             wwi_pickle_hint *hint);
#endif
