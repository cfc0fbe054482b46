/* Weak stand-in for wwi_pickle_hint_clear until lib/formats/pickle provides
 * the real one (a strong definition there replaces this at link time). Frees
 * what pickle.h documents as wwi_malloc'd: the key array and its strings. */
#include "formats/pickle/pickle.h"
#include "util/alloc.h"

__attribute__((weak)) void wwi_pickle_hint_clear(wwi_pickle_hint *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_storage_keys; i++)
        wwi_free(h->storage_keys[i]);
    WW_FREE_NULL(h->storage_keys);
    h->n_storage_keys = 0;
}
