/* Core: cursor bounds, capped buffer, limits table, detection of unknown bytes. */
#include "check.h"
#include "io/cur.h"
#include "util/buf.h"
#include "util/strutil.h"
#include "weightwall.h"

static void test_cursor(void)
{
    const uint8_t data[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    wwi_cur c;
    wwi_cur_init(&c, data, sizeof data);
    CHECK(wwi_cur_u8(&c) == 1);
    CHECK(wwi_cur_u32le(&c) == 0x05040302u);
    CHECK(wwi_cur_left(&c) == 4);
    CHECK(wwi_cur_u64le(&c) == 0); /* short: sticky error */
    CHECK(c.err == WW_E_TRUNCATED);
    CHECK(wwi_cur_u8(&c) == 0);
    CHECK(wwi_cur_bytes(&c, 1) == NULL);
    wwi_cur_init(&c, data, sizeof data);
    CHECK(!wwi_cur_has(&c, SIZE_MAX)); /* no wrap */
    CHECK(wwi_cur_skip(&c, 9));
    CHECK(wwi_cur_eof(&c));
    const char text[] = "abc\ndef";
    size_t n = 0;
    wwi_cur_init(&c, text, sizeof text - 1);
    const uint8_t *l = wwi_cur_line(&c, 100, &n);
    CHECK(l && n == 3 && wwi_bytes_eq(l, "abc", 3));
    CHECK(wwi_cur_line(&c, 100, &n) == NULL && c.err == WW_E_TRUNCATED);
}

static void test_buf(void)
{
    wwi_buf b;
    wwi_buf_init(&b, 8);
    CHECK(wwi_buf_adds(&b, "1234") == WW_OK);
    CHECK(wwi_buf_printf(&b, "%d", 5678) == WW_OK);
    CHECK_STR(b.data, "12345678");
    CHECK(wwi_buf_adds(&b, "9") == WW_E_LIMIT); /* over the cap: freed */
    CHECK(b.data == NULL);
    wwi_buf_free(&b);
}

static void test_limits_and_parse(void)
{
    ww_limits l;
    ww_limits_default(&l);
    CHECK(l.max_depth == 16);
    CHECK(ww_limits_set(&l, "max_depth", "3") == WW_OK && l.max_depth == 3);
    CHECK(ww_limits_set(&l, "max_depth", "99999999999") == WW_E_ARG);
    CHECK(ww_limits_set(&l, "no_such_limit", "1") == WW_E_ARG);
    uint64_t v;
    CHECK(wwi_parse_u64("123", 3, 1000, &v) && v == 123);
    CHECK(!wwi_parse_u64("18446744073709551616", 20, UINT64_MAX, &v));
    CHECK(!wwi_parse_u64("", 0, 10, &v));
    char ext[16];
    wwi_path_ext("dir.x/Model.PT", ext, sizeof ext);
    CHECK_STR(ext, ".pt");
    wwi_path_ext("dir.x/.hidden", ext, sizeof ext);
    CHECK_STR(ext, "");
}

static void test_unknown_bytes(void)
{
    ww_engine *e = NULL;
    CHECK(ww_engine_new(&e) == WW_OK);
    ww_result *r = NULL;
    const char text[] = "hello, this is a readme\n";
    CHECK(ww_scan_memory(e, text, sizeof text - 1, "README.md", &r) == WW_OK);
    CHECK(ww_result_skipped(r));
    CHECK(ww_result_verdict(r) == WW_VERDICT_CLEAN);
    ww_result_free(r);
    /* Unknown bytes under a model extension fail closed. */
    CHECK(ww_scan_memory(e, text, sizeof text - 1, "model.bin", &r) == WW_OK);
    CHECK(ww_result_verdict(r) == WW_VERDICT_ERROR);
    ww_result_free(r);
    CHECK(ww_scan_memory(e, "", 0, "empty.pt", &r) == WW_OK);
    CHECK(ww_result_verdict(r) == WW_VERDICT_ERROR);
    ww_result_free(r);
    ww_engine_free(e);
}

int main(void)
{
    test_cursor();
    test_buf();
    test_limits_and_parse();
    test_unknown_bytes();
    return CHECK_DONE();
}
