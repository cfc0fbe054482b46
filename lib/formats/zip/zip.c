/* zip: PKZIP archives, read the way PyTorch's reader (miniz) reads them, with
 * the differences to Python's zipfile reported as findings. Refines the layer
 * format to pytorch_zip / torchscript / npz / keras_v3 from member names, and
 * scans members by content through the driver. Tensor storages of a PyTorch
 * zip (members named by the pickle's persistent ids) are never read. */
#include <ctype.h>
#include <stdlib.h>
#include "formats/format.h"
#include "formats/pickle/pickle.h"
#include "formats/zip/zipcheck.h"
#include "formats/zip/zipdir.h"
#include "formats/zip/zipmember.h"
#include "formats/zip/zipname.h"
#include "util/alloc.h"
#include "util/strutil.h"

#define NAME_MAX_OUT 1024

typedef enum layout { L_ZIP, L_TORCH, L_TORCHSCRIPT, L_NPZ, L_KERAS } layout;

typedef struct zctx {
    wwi_scan *s;
    wwi_src *in;
    const wwi_zip_dir *d;
    layout kind;
    char **refs; /* lowercased names of members that hold tensor storages */
    size_t nrefs, caprefs;
    uint64_t storages_skipped;
} zctx;

static int probe(const uint8_t *head, size_t n, uint64_t size)
{
    (void)size;
    if (n >= 4 && (wwi_bytes_eq(head, "PK\x03\x04", 4) || wwi_bytes_eq(head, "PK\x05\x06", 4)))
        return 90;
    return 0;
}

static bool is_dir_entry(const wwi_zip_entry *e)
{
    return e->name_len > 0 && e->name[e->name_len - 1] == '/' && e->csize == 0;
}

static bool is_pickle_name(const wwi_zip_entry *e)
{
    return wwi_name_has_suffix_ci(e->name, e->name_len, ".pkl") ||
           wwi_name_has_suffix_ci(e->name, e->name_len, ".debug_pkl");
}

/* `want` is the whole name or its last component(s) after a '/'. */
static bool name_is(const wwi_zip_entry *e, const char *want)
{
    size_t w = strlen(want);
    if (wwi_name_eq_ci(e->name, e->name_len, want))
        return true;
    return e->name_len > w && e->name[e->name_len - w - 1] == '/' &&
           wwi_name_has_suffix_ci(e->name, e->name_len, want);
}

static bool in_code_dir(const wwi_zip_entry *e)
{
    for (size_t i = 0; i + 5 <= e->name_len; i++)
        if ((i == 0 || e->name[i - 1] == '/') && wwi_name_eq_ci(e->name + i, 5, "code/"))
            return true;
    return false;
}

static layout classify(const wwi_zip_dir *d)
{
    bool data_pkl = false, ts = false, all_npy = true, config = false, meta = false;
    size_t files = 0;
    for (size_t i = 0; i < d->n; i++) {
        const wwi_zip_entry *e = &d->e[i];
        if (is_dir_entry(e))
            continue;
        files++;
        data_pkl |= name_is(e, "data.pkl");
        ts |= name_is(e, "constants.pkl") || in_code_dir(e);
        all_npy &= wwi_name_has_suffix_ci(e->name, e->name_len, ".npy");
        config |= wwi_name_eq_ci(e->name, e->name_len, "config.json");
        meta |= wwi_name_eq_ci(e->name, e->name_len, "metadata.json");
    }
    if (data_pkl)
        return ts ? L_TORCHSCRIPT : L_TORCH;
    if (files > 0 && all_npy)
        return L_NPZ;
    if (config && meta)
        return L_KERAS;
    return L_ZIP;
}

static void lower(char *p)
{
    for (; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Record `<dir><stem>/<key>` for each storage key of pickle `pname`
 * (`<dir><stem>.pkl`): data.pkl keeps tensors in data/, constants.pkl in
 * constants/. */
static ww_status add_refs(zctx *z, const char *pname, const wwi_pickle_hint *h)
{
    const char *dot = strrchr(pname, '.');
    size_t stem = dot ? (size_t)(dot - pname) : strlen(pname);
    for (size_t i = 0; i < h->n_storage_keys; i++) {
        const char *key = h->storage_keys[i];
        if (!key)
            continue;
        if (z->nrefs == z->caprefs) {
            size_t nc = z->caprefs ? z->caprefs * 2 : 64;
            void *p = z->refs;
            ww_status st = wwi_realloc(&p, nc * sizeof *z->refs);
            if (st != WW_OK)
                return st;
            z->refs = p;
            z->caprefs = nc;
        }
        size_t kl = strlen(key);
        char *r = wwi_malloc(stem + 1 + kl + 1);
        if (!r)
            return WW_E_NOMEM;
        memcpy(r, pname, stem);
        r[stem] = '/';
        memcpy(r + stem + 1, key, kl + 1);
        lower(r);
        z->refs[z->nrefs++] = r;
    }
    return WW_OK;
}

/* Match on the member's raw name, not its printable (truncated, '?'-escaped)
 * form: two different names must never look alike here, or a member would be
 * skipped as tensor data. */
static bool is_ref(const zctx *z, const wwi_zip_entry *e)
{
    if (z->nrefs == 0)
        return false;
    char low[NAME_MAX_OUT];
    if (e->name_len >= sizeof low || memchr(e->name, 0, e->name_len))
        return false;
    memcpy(low, e->name, e->name_len);
    low[e->name_len] = '\0';
    lower(low);
    const char *key = low;
    return bsearch(&key, z->refs, z->nrefs, sizeof *z->refs, cmp_str) != NULL;
}

/* Encryption flag set: PyTorch reads the bytes as plaintext anyway. If they
 * look like a known format they are scanned and the lying flag reported;
 * otherwise the member really is encrypted and cannot be scanned. */
static bool plaintext_despite_flag(zctx *z, const wwi_zip_entry *e, const char *pname,
                                   uint64_t off)
{
    if (e->method == 99) {
        wwi_scan_error(z->s, WW_E_UNSUPPORTED, e->lho,
                       "'%s' is AES-encrypted: cannot be scanned", pname);
        return false;
    }
    const uint8_t *head = NULL;
    size_t n = 0;
    uint8_t *owned = NULL;
    const wwi_format *f = NULL;
    if (wwi_zip_read_head(z->s, z->in, e, off, WWI_PROBE_BYTES, &head, &n, &owned) == WW_OK)
        f = wwi_format_detect(head, n, e->usize);
    wwi_free(owned);
    if (!f) {
        wwi_scan_error(z->s, WW_E_UNSUPPORTED, e->lho,
                       "'%s' is encrypted (flag 0x%x): cannot be scanned", pname,
                       (unsigned)e->flags);
        return false;
    }
    wwi_finding(z->s, WW_SEV_MEDIUM, "container", NULL, "T-ZIP-FLAGS", e->lho,
                "'%s' is marked encrypted but holds plaintext %s (Python zipfile refuses it, "
                "PyTorch reads it)",
                pname, f->name);
    return true;
}

static ww_status scan_pickle_member(zctx *z, const wwi_zip_entry *e, const char *pname,
                                    uint64_t off)
{
    const uint8_t *data = NULL;
    size_t len = 0;
    uint8_t *owned = NULL;
    wwi_src *child = NULL;
    wwi_pickle_hint hint;
    memset(&hint, 0, sizeof hint);
    hint.torchscript = z->kind == L_TORCHSCRIPT;
    ww_status rc = wwi_zip_read_full(z->s, z->in, e, pname, off, &data, &len, &owned);
    if (rc != WW_OK)
        return WW_OK; /* recorded; go on with the other members */
    if (owned)
        rc = wwi_src_memory(owned, len, &child);
    else
        rc = wwi_src_sub(z->in, off, len, &child);
    if (rc != WW_OK) {
        wwi_free(owned);
        return wwi_scan_error(z->s, rc, UINT64_MAX, "cannot open member '%s'", pname);
    }
    wwi_scan_set_hint(z->s, &hint);
    rc = wwi_scan_nested_as(z->s, child, pname, "pickle");
    wwi_scan_set_hint(z->s, NULL);
    if (rc == WW_OK && hint.n_storage_keys > 0) {
        ww_status st = add_refs(z, pname, &hint);
        if (st != WW_OK)
            rc = wwi_scan_error(z->s, st, UINT64_MAX, "cannot record storage keys of '%s'",
                                pname);
    }
    wwi_pickle_hint_clear(&hint);
    wwi_src_free(child);
    wwi_free(owned);
    return rc;
}

static ww_status scan_content_member(zctx *z, const wwi_zip_entry *e, const char *pname,
                                     uint64_t off)
{
    if (e->method == 0) {
        wwi_src *child = NULL;
        ww_status rc = wwi_src_sub(z->in, off, e->csize, &child);
        if (rc != WW_OK)
            return wwi_scan_error(z->s, rc, UINT64_MAX, "cannot open member '%s'", pname);
        rc = wwi_scan_nested(z->s, child, pname);
        wwi_src_free(child);
        return rc;
    }
    if (e->method != 8) {
        wwi_scan_error(z->s, WW_E_UNSUPPORTED, e->lho,
                       "'%s' uses compression method %u: not scanned", pname,
                       (unsigned)e->method);
        return WW_OK; /* recorded; the other members are still scanned */
    }
    /* Inflate only what detection needs; a member in no known format is
     * handed over as its head, and the driver applies the unknown-content
     * rules to it without the whole member being expanded. */
    const uint8_t *data = NULL;
    size_t len = 0;
    uint8_t *owned = NULL;
    const wwi_format *f = NULL;
    ww_status rc = wwi_zip_read_head(z->s, z->in, e, off, WWI_PROBE_BYTES, &data, &len, &owned);
    if (rc == WW_OK)
        f = wwi_format_detect(data, len, e->usize);
    if (f || rc != WW_OK) {
        WW_FREE_NULL(owned);
        rc = wwi_zip_read_full(z->s, z->in, e, pname, off, &data, &len, &owned);
        if (rc != WW_OK)
            return WW_OK; /* recorded */
    }
    rc = wwi_scan_nested_mem(z->s, data, len, pname);
    wwi_free(owned);
    return rc;
}

static ww_status scan_member(zctx *z, const wwi_zip_entry *e, bool pickle_pass)
{
    char pname[NAME_MAX_OUT];
    wwi_name_printable(e->name, e->name_len, pname, sizeof pname);
    bool torch = z->kind == L_TORCH || z->kind == L_TORCHSCRIPT;
    bool as_pickle = torch && is_pickle_name(e);
    if (as_pickle != pickle_pass || is_dir_entry(e))
        return WW_OK;
    if (torch && !as_pickle && is_ref(z, e)) {
        if (e->flags & WWI_ZIP_FLAG_ENCRYPTED)
            wwi_finding(z->s, WW_SEV_MEDIUM, "container", NULL, "T-ZIP-FLAGS", e->lho,
                        "tensor storage '%s' is marked encrypted", pname);
        z->storages_skipped++;
        return WW_OK; /* raw tensor bytes: never read */
    }
    if (torch && z->kind == L_TORCHSCRIPT && in_code_dir(e))
        wwi_finding(z->s, WW_SEV_NONE, "code", NULL, "T-TORCHSCRIPT", e->lho,
                    "TorchScript code member '%s'", pname);
    uint64_t off = 0;
    if (wwi_zip_data_offset(z->s, z->in, e, pname, &off) != WW_OK)
        return WW_OK; /* recorded; other members are still scanned */
    if (e->flags & (WWI_ZIP_FLAG_PATCHED | WWI_ZIP_FLAG_STRONG))
        wwi_finding(z->s, WW_SEV_MEDIUM, "container", NULL, "T-ZIP-FLAGS", e->lho,
                    "'%s' has flag bits 0x%x (patched data / strong encryption) that make "
                    "Python zipfile refuse it; PyTorch ignores them",
                    pname, (unsigned)(e->flags & 0x60));
    if ((e->flags & (WWI_ZIP_FLAG_ENCRYPTED | WWI_ZIP_FLAG_STRONG)) &&
        !plaintext_despite_flag(z, e, pname, off))
        return WW_OK;
    if (as_pickle)
        return scan_pickle_member(z, e, pname, off);
    return scan_content_member(z, e, pname, off);
}

static void set_layout_format(zctx *z)
{
    static const char *const names[] = {"zip", "pytorch_zip", "torchscript", "npz", "keras_v3"};
    wwi_scan_set_format(z->s, names[z->kind], z->kind != L_ZIP);
    if (z->kind == L_TORCHSCRIPT)
        wwi_finding(z->s, WW_SEV_LOW, "code", NULL, "T-TORCHSCRIPT", UINT64_MAX,
                    "TorchScript archive: its code/ runs when loaded with torch.jit.load");
}

/* Bytes after the end record: miniz tolerates them, and they can be a second
 * format (T-ZIP-POLYGLOT). Scanned by content. */
static ww_status scan_trailing(zctx *z)
{
    uint64_t size = wwi_src_size(z->in);
    if (z->d->end_of_zip > size) {
        wwi_finding(z->s, WW_SEV_LOW, "malformed", NULL, "zip.comment", z->d->eocd_off,
                    "end record comment runs %llu bytes past the end of the file",
                    (unsigned long long)(z->d->end_of_zip - size));
        return WW_OK;
    }
    if (z->d->end_of_zip == size)
        return WW_OK;
    uint64_t n = size - z->d->end_of_zip;
    wwi_finding(z->s, WW_SEV_LOW, "container", NULL, "T-ZIP-POLYGLOT", z->d->end_of_zip,
                "%llu bytes follow the end record (scanned by content)",
                (unsigned long long)n);
    wwi_src *child = NULL;
    ww_status rc = wwi_src_sub(z->in, z->d->end_of_zip, n, &child);
    if (rc != WW_OK)
        return wwi_scan_error(z->s, rc, UINT64_MAX, "cannot open the trailing bytes");
    rc = wwi_scan_nested(z->s, child, "[after-zip]");
    wwi_src_free(child);
    return rc;
}

static ww_status scan_empty_zip(zctx *z)
{
    ww_status rc = WW_OK;
    uint64_t before = z->d->cd_off;
    if (before > 0 && before <= wwi_src_size(z->in)) {
        wwi_finding(z->s, WW_SEV_MEDIUM, "container", NULL, "T-ZIP-HIDDEN-DATA", 0,
                    "the directory lists no member, but %llu bytes precede it",
                    (unsigned long long)before);
        wwi_src *child = NULL;
        rc = wwi_src_sub(z->in, 0, before, &child);
        if (rc != WW_OK)
            return wwi_scan_error(z->s, rc, 0, "cannot open the bytes before the directory");
        rc = wwi_scan_nested(z->s, child, "[before-directory]");
        wwi_src_free(child);
    }
    return rc == WW_OK ? scan_trailing(z) : rc;
}

static ww_status scan(wwi_scan *s, wwi_src *in)
{
    wwi_zip_dir d;
    zctx z;
    memset(&z, 0, sizeof z);
    z.s = s;
    z.in = in;
    z.d = &d;
    ww_status rc = wwi_zip_read_dir(s, in, &d);
    ww_status dir_rc = rc;
    if (d.n == 0) {
        /* An empty directory still has bytes around it: whatever lies before
         * the directory (hidden local entries that streaming extractors read)
         * and after the end record is scanned, never skipped. */
        if (dir_rc == WW_OK)
            rc = scan_empty_zip(&z);
        goto done;
    }
    z.kind = classify(&d);
    set_layout_format(&z);
    rc = wwi_zip_check_dir(s, &d);
    if (rc != WW_OK)
        goto done;
    /* Pickles first: their persistent ids name the storage members, which
     * are then skipped without being read. */
    for (int pass = 1; pass >= 0; pass--) {
        for (size_t i = 0; i < d.n; i++) {
            rc = scan_member(&z, &d.e[i], pass == 1);
            if (rc == WW_OK)
                rc = wwi_scan_check_time(s);
            if (rc != WW_OK)
                goto done;
        }
        if (pass == 1 && z.nrefs > 1)
            qsort(z.refs, z.nrefs, sizeof *z.refs, cmp_str);
    }
    if (z.storages_skipped > 0)
        wwi_finding(s, WW_SEV_NONE, "container", NULL, "tensor_storages", UINT64_MAX,
                    "%llu tensor storage members not read (raw data named by the pickle)",
                    (unsigned long long)z.storages_skipped);
    if (dir_rc == WW_OK)
        rc = scan_trailing(&z);
done:
    for (size_t i = 0; i < z.nrefs; i++)
        wwi_free(z.refs[i]);
    wwi_free(z.refs);
    wwi_zip_dir_free(&d);
    return rc != WW_OK ? rc : dir_rc;
}

const wwi_format wwi_format_zip = {
    .name = "zip",
    .description = "zip archive (PyTorch checkpoints, TorchScript, .npz, .keras, plain zip)",
    .flags = WWI_FMT_CONTAINER,
    .probe = probe,
    .scan = scan,
};
