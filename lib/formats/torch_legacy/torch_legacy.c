/* torch_legacy: pre-1.6 torch.save, a file of five stacked pickles (magic
 * number, protocol version, sys_info, the object graph, the storage key list)
 * followed by raw storage data (per key: 8-byte element count + bytes).
 * torch.load unpickles the five with the full unpickler, so every one is
 * scanned; the raw data is skipped by the declared counts, never parsed. */
#include "formats/format.h"
#include "formats/pickle/pk.h"
#include "util/strutil.h"

static const uint8_t magic_bin[] = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                    0x20, 0x6a, 0xa8, 0x50, 0x19, '.'};
static const char magic_text[] = "L119547037146038801333356L\n.";

static int probe(const uint8_t *head, size_t n, uint64_t size)
{
    (void)size;
    wwi_cur c;
    wwi_cur_init(&c, head, n);
    if (wwi_cur_eat(&c, magic_text, sizeof magic_text - 1))
        return 95;
    if (!wwi_cur_eat(&c, "\x80", 1))
        return 0;
    uint8_t proto = wwi_cur_u8(&c);
    if (proto < 2 || proto > 5)
        return 0;
    if (wwi_cur_eat(&c, "\x95", 1))
        wwi_cur_skip(&c, 8); /* FRAME (protocol 4+) */
    return wwi_cur_eat(&c, magic_bin, sizeof magic_bin) ? 95 : 0;
}

static uint8_t elsize_of(const pk_ctx *c, const pk_view *key)
{
    for (size_t i = 0; i < c->nskeys; i++)
        if (c->skeys[i].n == key->n && wwi_bytes_eq(c->skeys[i].p, key->p, key->n))
            return c->skeys[i].elsize;
    return 0;
}

static ww_status skip_storages(wwi_scan *s, const pk_ctx *c, const uint8_t *data, size_t len,
                               size_t off)
{
    wwi_cur cur;
    wwi_cur_init(&cur, data, len);
    wwi_cur_skip(&cur, off);
    for (size_t i = 0; i < c->nstrs; i++) {
        uint64_t at = cur.pos;
        uint8_t el = elsize_of(c, &c->strs[i]);
        if (el == 0)
            return wwi_scan_error(s, WW_E_UNSUPPORTED, at,
                                  "storage '%.*s' has no known element size: cannot skip its "
                                  "raw data",
                                  (int)(c->strs[i].n > 64 ? 64 : c->strs[i].n),
                                  (const char *)c->strs[i].p);
        uint64_t numel = wwi_cur_u64le(&cur), bytes;
        if (cur.err != WW_OK || __builtin_mul_overflow(numel, el, &bytes) ||
            bytes > wwi_cur_left(&cur))
            return wwi_scan_error(s, WW_E_TRUNCATED, at,
                                  "storage data runs past the end of the file");
        wwi_cur_skip(&cur, (size_t)bytes);
        if (wwi_scan_check_time(s) != WW_OK)
            return WW_E_TIMEOUT;
    }
    if (!wwi_cur_eof(&cur))
        return wwi_scan_error(s, WW_E_FORMAT, cur.pos,
                              "%llu unexplained bytes after the storage data",
                              (unsigned long long)wwi_cur_left(&cur));
    return WW_OK;
}

static ww_status scan(wwi_scan *s, wwi_src *in)
{
    ww_status rc = WW_OK;
    const uint8_t *data = NULL;
    uint64_t size = wwi_src_size(in), used = 0, more = 0;
    pk_ctx c;
    pk_ctx_init(&c, s);
    if (size > wwi_scan_limits(s)->max_member_bytes || size > SIZE_MAX)
        return wwi_scan_limit(s, "max_member_bytes", "legacy torch file of %llu bytes",
                              (unsigned long long)size);
    rc = wwi_src_view(in, 0, (size_t)size, &data);
    if (rc != WW_OK)
        return wwi_scan_error(s, rc, 0, "cannot read the file: %s", ww_strerror(rc));
    /* magic, protocol version, sys_info, object graph */
    rc = pk_run(&c, data, (size_t)size, 4, &used);
    if (rc == WW_OK && used == size)
        rc = wwi_scan_error(s, WW_E_TRUNCATED, used, "legacy torch file ends before its "
                                                      "storage key list");
    if (rc == WW_OK) {
        wwi_cur cur;
        wwi_cur_init(&cur, data, (size_t)size);
        wwi_cur_skip(&cur, (size_t)used);
        size_t left = wwi_cur_left(&cur);
        c.collect_strs = true;
        rc = pk_run(&c, wwi_cur_peek(&cur, left), left, 1, &more);
    }
    if (rc == WW_OK)
        rc = skip_storages(s, &c, data, (size_t)size, (size_t)(used + more));
    pk_ctx_flush(&c);
    pk_ctx_free(&c);
    return rc;
}

const wwi_format wwi_format_torch_legacy = {
    .name = "torch_legacy",
    .description = "PyTorch < 1.6 torch.save (stacked pickles + raw storages)",
    .flags = WWI_FMT_CODE_CAPABLE,
    .probe = probe,
    .scan = scan,
};
