/* zip and numpy modules: hand-built archives through ww_scan_memory. */
#include <stdlib.h>
#include <zlib.h>
#include "check.h"
#include "weightwall.h"

/* ---- a tiny zip writer (test only) ----------------------------------- */
typedef struct zb {
    uint8_t data[1 << 20];
    size_t len;
    uint8_t cd[1 << 16];
    size_t cdlen;
    unsigned n;
} zb;

static void put(uint8_t *p, size_t *len, const void *src, size_t n)
{
    memcpy(p + *len, src, n);
    *len += n;
}
static void put16(uint8_t *p, size_t *len, unsigned v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(p, len, b, 2);
}
static void put32(uint8_t *p, size_t *len, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(p, len, b, 4);
}
static void put64(uint8_t *p, size_t *len, uint64_t v)
{
    put32(p, len, (uint32_t)v);
    put32(p, len, (uint32_t)(v >> 32));
}

static size_t deflate_raw(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t got = cap - z.avail_out;
    deflateEnd(&z);
    return got;
}

/* Add a member. local_name NULL: same as name. */
static void zb_add(zb *z, const char *name, const void *data, size_t n, int method,
                   unsigned flags, const char *local_name, uint32_t crc_xor)
{
    static uint8_t comp[1 << 20];
    const uint8_t *body = data;
    size_t clen = n;
    if (method == 8) {
        clen = deflate_raw(data, n, comp, sizeof comp);
        body = comp;
    }
    uint32_t crc = (uint32_t)crc32(0, data, (uInt)n) ^ crc_xor;
    const char *ln = local_name ? local_name : name;
    uint32_t lho = (uint32_t)z->len;
    put(z->data, &z->len, "PK\x03\x04", 4);
    put16(z->data, &z->len, 20);
    put16(z->data, &z->len, flags);
    put16(z->data, &z->len, (unsigned)method);
    put32(z->data, &z->len, 0);
    put32(z->data, &z->len, crc);
    put32(z->data, &z->len, (uint32_t)clen);
    put32(z->data, &z->len, (uint32_t)n);
    put16(z->data, &z->len, (unsigned)strlen(ln));
    put16(z->data, &z->len, 0);
    put(z->data, &z->len, ln, strlen(ln));
    put(z->data, &z->len, body, clen);
    put(z->cd, &z->cdlen, "PK\x01\x02", 4);
    put16(z->cd, &z->cdlen, 0x031e);
    put16(z->cd, &z->cdlen, 20);
    put16(z->cd, &z->cdlen, flags);
    put16(z->cd, &z->cdlen, (unsigned)method);
    put32(z->cd, &z->cdlen, 0);
    put32(z->cd, &z->cdlen, crc);
    put32(z->cd, &z->cdlen, (uint32_t)clen);
    put32(z->cd, &z->cdlen, (uint32_t)n);
    put16(z->cd, &z->cdlen, (unsigned)strlen(name));
    put16(z->cd, &z->cdlen, 0);
    put16(z->cd, &z->cdlen, 0);
    put16(z->cd, &z->cdlen, 0);
    put16(z->cd, &z->cdlen, 0);
    put32(z->cd, &z->cdlen, 0x81a40000u);
    put32(z->cd, &z->cdlen, lho);
    put(z->cd, &z->cdlen, name, strlen(name));
    z->n++;
}

/* Central directory + end record; zip64 adds the ZIP64 record and locator
 * and puts 0xFFFF.. in the classic record. */
static void zb_finish(zb *z, bool zip64, unsigned count_override)
{
    uint64_t cd_off = z->len;
    put(z->data, &z->len, z->cd, z->cdlen);
    unsigned n = count_override ? count_override : z->n;
    if (zip64) {
        uint64_t rec = z->len;
        put(z->data, &z->len, "PK\x06\x06", 4);
        put64(z->data, &z->len, 44);
        put16(z->data, &z->len, 45);
        put16(z->data, &z->len, 45);
        put32(z->data, &z->len, 0);
        put32(z->data, &z->len, 0);
        put64(z->data, &z->len, n);
        put64(z->data, &z->len, n);
        put64(z->data, &z->len, z->cdlen);
        put64(z->data, &z->len, cd_off);
        put(z->data, &z->len, "PK\x06\x07", 4);
        put32(z->data, &z->len, 0);
        put64(z->data, &z->len, rec);
        put32(z->data, &z->len, 1);
    }
    put(z->data, &z->len, "PK\x05\x06", 4);
    put16(z->data, &z->len, 0);
    put16(z->data, &z->len, 0);
    put16(z->data, &z->len, zip64 ? 0xFFFF : n);
    put16(z->data, &z->len, zip64 ? 0xFFFF : n);
    put32(z->data, &z->len, zip64 ? 0xFFFFFFFFu : (uint32_t)z->cdlen);
    put32(z->data, &z->len, zip64 ? 0xFFFFFFFFu : (uint32_t)cd_off);
    put16(z->data, &z->len, 0);
}

/* ---- scan helpers --------------------------------------------------- */
static ww_engine *eng;

#include "scan_helpers.h"

static const char PKL[] = "\x80\x02K\x01.";             /* the int 1 */
static const char EVIL[] = "cos\nsystem\n(S'id'\ntR.";   /* written, never loaded */
static zb Z;

static void reset(void)
{
    memset(&Z, 0, sizeof Z);
}

static void test_torch_layout(void)
{
    reset();
    zb_add(&Z, "arch/data.pkl", PKL, sizeof PKL - 1, 0, 0x08, NULL, 0);
    zb_add(&Z, "arch/version", "3\n", 2, 0, 0, NULL, 0);
    zb_add(&Z, "arch/data/0", "\x01\x02\x03\x04", 4, 0, 0, NULL, 0);
    zb_finish(&Z, false, 0);
    ww_result *r = scan(Z.data, Z.len, "m.pt");
    CHECK_STR(ww_result_format(r), "pytorch_zip");
    CHECK(has_layer(r, "arch/data.pkl", "pickle"));
    CHECK(ww_result_verdict(r) == WW_VERDICT_CLEAN);
    ww_result_free(r);

    /* zip64 end records, deflated pickle */
    reset();
    zb_add(&Z, "arch/data.pkl", PKL, sizeof PKL - 1, 8, 0, NULL, 0);
    zb_finish(&Z, true, 0);
    r = scan(Z.data, Z.len, "m.pt");
    CHECK_STR(ww_result_format(r), "pytorch_zip");
    CHECK(has_layer(r, "arch/data.pkl", "pickle"));
    CHECK(ww_result_verdict(r) == WW_VERDICT_CLEAN);
    ww_result_free(r);

    /* TorchScript: code/ and constants.pkl */
    reset();
    zb_add(&Z, "ts/data.pkl", PKL, sizeof PKL - 1, 0, 0, NULL, 0);
    zb_add(&Z, "ts/constants.pkl", PKL, sizeof PKL - 1, 0, 0, NULL, 0);
    zb_add(&Z, "ts/code/__torch__/m.py", "def f(): pass\n", 14, 0, 0, NULL, 0);
    zb_finish(&Z, false, 0);
    r = scan(Z.data, Z.len, "ts.pt");
    CHECK_STR(ww_result_format(r), "torchscript");
    CHECK(has_finding(r, "T-TORCHSCRIPT", WW_SEV_LOW));
    ww_result_free(r);
}

static void test_zip_anomalies(void)
{
    /* local/central name mismatch (CVE-2025-1944): still scanned */
    reset();
    zb_add(&Z, "arch/data.pkl", EVIL, sizeof EVIL - 1, 0, 0, "arch/datap.kl", 0);
    zb_finish(&Z, false, 0);
    ww_result *r = scan(Z.data, Z.len, "m.pt");
    CHECK(has_finding(r, "T-ZIP-NAME-MISMATCH", WW_SEV_MEDIUM));
    CHECK(ww_result_max_severity(r) == WW_SEV_CRITICAL);
    ww_result_free(r);

    /* bad CRC */
    reset();
    zb_add(&Z, "arch/data.pkl", PKL, sizeof PKL - 1, 0, 0, NULL, 0xFFFFFFFFu);
    zb_finish(&Z, false, 0);
    r = scan(Z.data, Z.len, "m.pt");
    CHECK(has_finding(r, "T-ZIP-BADCRC", WW_SEV_MEDIUM));
    CHECK(ww_result_verdict(r) != WW_VERDICT_CLEAN);
    ww_result_free(r);

    /* encryption flag over bytes that are no known format: unscannable */
    reset();
    zb_add(&Z, "secret.bin", "\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc", 12, 0, 1, NULL,
           0);
    zb_finish(&Z, false, 0);
    r = scan(Z.data, Z.len, "x.zip");
    CHECK(ww_result_verdict(r) == WW_VERDICT_ERROR);
    CHECK(ww_result_status(r) == WW_E_UNSUPPORTED);
    ww_result_free(r);

    /* encryption flag over a plaintext pickle: scanned, flag reported */
    reset();
    zb_add(&Z, "model/config.pkl", EVIL, sizeof EVIL - 1, 0, 1, NULL, 0);
    zb_finish(&Z, false, 0);
    r = scan(Z.data, Z.len, "x.zip");
    CHECK(has_finding(r, "T-ZIP-FLAGS", WW_SEV_MEDIUM));
    CHECK(ww_result_max_severity(r) == WW_SEV_CRITICAL);
    ww_result_free(r);

    /* duplicate names and a traversal name */
    reset();
    zb_add(&Z, "arch/data.pkl", EVIL, sizeof EVIL - 1, 0, 0, NULL, 0);
    zb_add(&Z, "arch/data.pkl", PKL, sizeof PKL - 1, 0, 0, NULL, 0);
    zb_add(&Z, "../../etc/evil.txt", "x", 1, 0, 0, NULL, 0);
    zb_finish(&Z, false, 0);
    r = scan(Z.data, Z.len, "m.pt");
    CHECK(has_finding(r, "T-ZIP-DUPLICATE-NAMES", WW_SEV_HIGH));
    CHECK(has_finding(r, "T-ZIP-SLIP", WW_SEV_HIGH));
    CHECK(ww_result_max_severity(r) == WW_SEV_CRITICAL); /* the first copy was scanned */
    ww_result_free(r);

    /* a pickle under a non-pickle name in a plain zip is found by content */
    reset();
    zb_add(&Z, "weights/blob", EVIL, sizeof EVIL - 1, 8, 0, NULL, 0);
    zb_finish(&Z, false, 0);
    r = scan(Z.data, Z.len, "x.zip");
    CHECK_STR(ww_result_format(r), "zip");
    CHECK(ww_result_max_severity(r) == WW_SEV_CRITICAL);
    ww_result_free(r);
}

static void test_zip_malformed(void)
{
    reset();
    zb_add(&Z, "a.pkl", PKL, sizeof PKL - 1, 0, 0, NULL, 0);
    zb_finish(&Z, false, 0);
    /* truncated: cut inside the central directory */
    ww_result *r = scan(Z.data, Z.len - 30, "t.zip");
    CHECK(ww_result_verdict(r) == WW_VERDICT_ERROR);
    ww_result_free(r);
    /* absurd count */
    reset();
    zb_add(&Z, "a.pkl", PKL, sizeof PKL - 1, 0, 0, NULL, 0);
    zb_finish(&Z, false, 60000);
    r = scan(Z.data, Z.len, "t.zip");
    CHECK(ww_result_verdict(r) == WW_VERDICT_ERROR);
    CHECK(ww_result_status(r) == WW_E_FORMAT);
    ww_result_free(r);
    /* no end record at all */
    r = scan(Z.data, 40, "t.zip");
    CHECK(ww_result_verdict(r) == WW_VERDICT_ERROR);
    ww_result_free(r);
}

static void test_zip_bomb_and_depth(void)
{
    size_t n = 8u << 20;
    uint8_t *zeros = calloc(1, n);
    reset();
    zb_add(&Z, "arch/data.pkl", zeros, n, 8, 0, NULL, 0);
    zb_finish(&Z, false, 0);
    free(zeros);
    ww_result *r = scan(Z.data, Z.len, "b.zip");
    CHECK(has_finding(r, "max_ratio", WW_SEV_NONE));
    CHECK(ww_result_verdict(r) != WW_VERDICT_CLEAN);
    ww_result_free(r);

    /* zip in zip in zip ... deeper than max_depth */
    static uint8_t cur[1 << 18], next[1 << 18];
    size_t cl = sizeof PKL - 1;
    memcpy(cur, PKL, cl);
    for (int i = 0; i < 20; i++) {
        reset();
        zb_add(&Z, i == 0 ? "x.pkl" : "inner.zip", cur, cl, 0, 0, NULL, 0);
        zb_finish(&Z, false, 0);
        memcpy(next, Z.data, Z.len);
        cl = Z.len;
        memcpy(cur, next, cl);
    }
    r = scan(cur, cl, "deep.zip");
    CHECK(has_finding(r, "max_depth", WW_SEV_NONE));
    CHECK(ww_result_status(r) == WW_E_LIMIT && ww_result_verdict(r) != WW_VERDICT_CLEAN);
    ww_result_free(r);
}

/* ---- numpy ---------------------------------------------------------- */
static size_t npy(uint8_t *out, const char *header, const void *data, size_t n)
{
    size_t hl = strlen(header);
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (uint8_t)hl;
    out[9] = (uint8_t)(hl >> 8);
    memcpy(out + 10, header, hl);
    memcpy(out + 10 + hl, data, n);
    return 10 + hl + n;
}

static void test_numpy(void)
{
    static uint8_t b[4096];
    float f[6] = {0};
    size_t n = npy(b, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", f,
                   sizeof f);
    ww_result *r = scan(b, n, "a.npy");
    CHECK_STR(ww_result_format(r), "numpy");
    CHECK(ww_result_verdict(r) == WW_VERDICT_CLEAN);
    ww_result_free(r);
    /* lying shape: needs more bytes than present */
    n = npy(b, "{'descr': '<f4', 'fortran_order': False, 'shape': (2000, 3), }\n", f, sizeof f);
    r = scan(b, n, "a.npy");
    CHECK(ww_result_status(r) == WW_E_TRUNCATED);
    ww_result_free(r);
    /* shape overflow */
    n = npy(b, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n",
            f, sizeof f);
    r = scan(b, n, "a.npy");
    CHECK(ww_result_verdict(r) == WW_VERDICT_ERROR);
    ww_result_free(r);
    /* structured dtype with an object field: the payload is a pickle */
    n = npy(b, "{'descr': [('a', '<i4'), ('b', '|O')], 'fortran_order': False, 'shape': (1,), }",
            EVIL, sizeof EVIL - 1);
    r = scan(b, n, "a.npy");
    CHECK(has_layer(r, "array.pkl", "pickle"));
    CHECK(ww_result_max_severity(r) == WW_SEV_CRITICAL);
    ww_result_free(r);
    /* object dtype */
    n = npy(b, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", PKL, sizeof PKL - 1);
    r = scan(b, n, "a.npy");
    CHECK(has_layer(r, "array.pkl", "pickle"));
    ww_result_free(r);
    /* not a literal dict numpy would accept */
    n = npy(b, "{'descr': __import__('os'), 'fortran_order': False, 'shape': (1,), }", "", 0);
    r = scan(b, n, "a.npy");
    CHECK(ww_result_status(r) == WW_E_FORMAT);
    ww_result_free(r);
    n = npy(b, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", f, 4);
    r = scan(b, n, "a.npy");
    CHECK(ww_result_status(r) == WW_E_FORMAT);
    ww_result_free(r);
    /* header length past the end */
    n = npy(b, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f, 4);
    b[8] = 0xff;
    b[9] = 0x7f;
    r = scan(b, n, "a.npy");
    CHECK(ww_result_status(r) == WW_E_TRUNCATED);
    ww_result_free(r);

    /* npz = zip of .npy */
    n = npy(b, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", f, sizeof f);
    reset();
    zb_add(&Z, "a.npy", b, n, 8, 0, NULL, 0);
    zb_add(&Z, "b.npy", b, n, 0, 0, NULL, 0);
    zb_finish(&Z, false, 0);
    r = scan(Z.data, Z.len, "x.npz");
    CHECK_STR(ww_result_format(r), "npz");
    CHECK(has_layer(r, "a.npy", "numpy") && has_layer(r, "b.npy", "numpy"));
    CHECK(ww_result_verdict(r) == WW_VERDICT_CLEAN);
    ww_result_free(r);
}

int main(void)
{
    if (ww_engine_new(&eng) != WW_OK)
        return 1;
    test_torch_layout();
    test_zip_anomalies();
    test_zip_malformed();
    test_zip_bomb_and_depth();
    test_numpy();
    ww_engine_free(eng);
    return CHECK_DONE();
}
