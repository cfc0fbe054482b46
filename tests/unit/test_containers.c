/* archive (libarchive: tar, 7z, gzip) and zlib modules through ww_scan_memory. */
#include <stdlib.h>
#include <zlib.h>
#include "check.h"
#include "weightwall.h"
#include "ww_config.h"

static ww_engine *eng;
static const char PKL[] = "\x80\x02K\x01.";           /* the int 1 */
static const char EVIL[] = "cos\nsystem\n(S'id'\ntR."; /* written, never loaded */

/* 7z archive holding evil.pkl = EVIL, made with `7z a` (p7zip 16.02). */
static const unsigned char SEVENZ[] = {
  0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04, 0xdf, 0x63, 0x0e, 0xc7,
  0x19, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5a, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x56, 0x5a, 0x87, 0x1a, 0x01, 0x00, 0x14, 0x63,
  0x6f, 0x73, 0x0a, 0x73, 0x79, 0x73, 0x74, 0x65, 0x6d, 0x0a, 0x28, 0x53,
  0x27, 0x69, 0x64, 0x27, 0x0a, 0x74, 0x52, 0x2e, 0x00, 0x01, 0x04, 0x06,
  0x00, 0x01, 0x09, 0x19, 0x00, 0x07, 0x0b, 0x01, 0x00, 0x01, 0x21, 0x21,
  0x01, 0x00, 0x0c, 0x15, 0x00, 0x08, 0x0a, 0x01, 0xbe, 0x45, 0xb8, 0x27,
  0x00, 0x00, 0x05, 0x01, 0x19, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x13, 0x00, 0x65, 0x00, 0x76,
  0x00, 0x69, 0x00, 0x6c, 0x00, 0x2e, 0x00, 0x70, 0x00, 0x6b, 0x00, 0x6c,
  0x00, 0x00, 0x00, 0x19, 0x00, 0x14, 0x0a, 0x01, 0x00, 0x38, 0x06, 0x62,
  0x3f, 0x6c, 0x7e, 0xdd, 0x01, 0x15, 0x06, 0x01, 0x00, 0x20, 0x80, 0xa4,
  0x81, 0x00, 0x00
};


#include "scan_helpers.h"

/* ustar header + data, padded to 512. type '0' file, '2' symlink. */
static size_t tar_add(uint8_t *out, const char *name, const void *data, size_t n, char type,
                      const char *link)
{
    uint8_t *h = out;
    memset(h, 0, 512);
    memcpy(h, name, strlen(name));
    memcpy(h + 100, "0000644", 7);
    memcpy(h + 108, "0000000", 7);
    memcpy(h + 116, "0000000", 7);
    snprintf((char *)h + 124, 12, "%011o", (unsigned)n);
    memcpy(h + 136, "00000000000", 11);
    h[156] = (uint8_t)type;
    if (link)
        memcpy(h + 157, link, strlen(link));
    memcpy(h + 257, "ustar\0" "00", 8);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    size_t pad = (n + 511) / 512 * 512;
    memset(out + 512, 0, pad);
    memcpy(out + 512, data, n);
    return 512 + pad;
}

static size_t zcompress(const void *in, size_t n, uint8_t *out, size_t cap, int wbits)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 9, Z_DEFLATED, wbits, 9, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t got = cap - z.avail_out;
    deflateEnd(&z);
    return got;
}

static uint8_t tarbuf[1 << 16], gzbuf[1 << 20];

static void test_tar_gzip(void)
{
    size_t n = tar_add(tarbuf, "model/model.pkl", EVIL, sizeof EVIL - 1, '0', NULL);
    n += tar_add(tarbuf + n, "model/ok.pkl", PKL, sizeof PKL - 1, '0', NULL);
    n += tar_add(tarbuf + n, "link", "", 0, '2', "../../etc/passwd");
    memset(tarbuf + n, 0, 1024);
    n += 1024;
    ww_result *r = scan(tarbuf, n, "m.tar");
    CHECK_STR(ww_result_format(r), "tar");
    CHECK(has_layer(r, "model/model.pkl", "pickle"));
    CHECK(ww_result_max_severity(r) == WW_SEV_CRITICAL);
    CHECK(has_finding(r, "T-ZIP-SLIP", WW_SEV_HIGH));
    ww_result_free(r);

    /* tar.gz */
    size_t gn = zcompress(tarbuf, n, gzbuf, sizeof gzbuf, 31);
    r = scan(gzbuf, gn, "m.tar.gz");
    CHECK_STR(ww_result_format(r), "tar.gz");
    CHECK(has_layer(r, "model/model.pkl", "pickle"));
    ww_result_free(r);

    /* gzip of a bare pickle: one member named after the file */
    gn = zcompress(PKL, sizeof PKL - 1, gzbuf, sizeof gzbuf, 31);
    r = scan(gzbuf, gn, "w.pkl.gz");
    CHECK_STR(ww_result_format(r), "gzip");
    CHECK(has_layer(r, "w.pkl", "pickle"));
    CHECK(ww_result_verdict(r) == WW_VERDICT_CLEAN);
    ww_result_free(r);

    /* truncated gzip: never clean */
    r = scan(gzbuf, gn - 6, "w.pkl.gz");
    CHECK(ww_result_verdict(r) != WW_VERDICT_CLEAN);
    ww_result_free(r);

    /* gzip bomb: 64 MiB of zeros */
    size_t big = 64u << 20;
    uint8_t *zeros = malloc(big); /* not zeros: those gunzip to an empty tar */
    memset(zeros, 'A', big);
    gn = zcompress(zeros, big, gzbuf, sizeof gzbuf, 31);
    free(zeros);
    /* deflate tops out near 1030:1, right at the default max_ratio; a
     * stricter engine shows the check fires while streaming */
    ww_engine *strict = NULL;
    ww_limits lim;
    ww_limits_default(&lim);
    lim.max_ratio = 100;
    CHECK(ww_engine_new(&strict) == WW_OK);
    ww_engine_set_limits(strict, &lim);
    r = NULL;
    CHECK(ww_scan_memory(strict, gzbuf, gn, "bomb.gz", &r) == WW_OK);
    CHECK(has_finding(r, "max_ratio", WW_SEV_NONE));
    CHECK(ww_result_verdict(r) != WW_VERDICT_CLEAN);
    ww_result_free(r);
    /* and max_inflated_bytes stops it when the ratio check is off */
    lim.max_ratio = 0;
    lim.max_inflated_bytes = 8u << 20;
    ww_engine_set_limits(strict, &lim);
    CHECK(ww_scan_memory(strict, gzbuf, gn, "bomb.gz", &r) == WW_OK);
    CHECK(has_finding(r, "max_inflated_bytes", WW_SEV_NONE));
    ww_result_free(r);
    ww_engine_free(strict);
}

static void test_7z(void)
{
    ww_result *r = scan(SEVENZ, sizeof SEVENZ, "m.7z");
    CHECK_STR(ww_result_format(r), "7z");
    CHECK(has_layer(r, "evil.pkl", "pickle"));
    CHECK(ww_result_max_severity(r) == WW_SEV_CRITICAL);
    ww_result_free(r);
    r = scan(SEVENZ, sizeof SEVENZ - 20, "m.7z");
    CHECK(ww_result_verdict(r) == WW_VERDICT_ERROR);
    ww_result_free(r);
}

static void test_zlib(void)
{
    /* joblib compress=True: a bare zlib stream */
    size_t n = zcompress(EVIL, sizeof EVIL - 1, gzbuf, sizeof gzbuf, 15);
    ww_result *r = scan(gzbuf, n, "m.joblib");
    CHECK_STR(ww_result_format(r), "zlib");
    CHECK(has_layer(r, "payload", "pickle"));
    CHECK(ww_result_max_severity(r) == WW_SEV_CRITICAL);
    ww_result_free(r);
    /* corrupt stream */
    gzbuf[n / 2] ^= 0x55;
    gzbuf[n / 2 + 1] ^= 0x55;
    r = scan(gzbuf, n, "m.joblib");
    CHECK(ww_result_verdict(r) != WW_VERDICT_CLEAN);
    ww_result_free(r);
    /* joblib < 0.9.3 "ZF" file: "ZF" + "0x15" padded to 19 + zlib */
    char hdr[32];
    snprintf(hdr, sizeof hdr, "ZF%-19s", "0x15");
    memcpy(gzbuf, hdr, 21);
    n = zcompress(EVIL, sizeof EVIL - 1, gzbuf + 21, sizeof gzbuf - 21, 15);
    r = scan(gzbuf, n + 21, "old.pkl");
    CHECK_STR(ww_result_format(r), "joblib_zfile");
    CHECK(ww_result_max_severity(r) == WW_SEV_CRITICAL);
    ww_result_free(r);
}

int main(void)
{
    if (ww_engine_new(&eng) != WW_OK)
        return 1;
#if WW_HAVE_ARCHIVE
    test_tar_gzip();
    test_7z();
#endif
    test_zlib();
    ww_engine_free(eng);
    return CHECK_DONE();
}
