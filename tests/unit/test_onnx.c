/* ONNX helpers: external-data location rules, raw sizes, probe. */
#include "check.h"
#include "formats/format.h"
#include "formats/onnx/onnx.h"

static bool risky(const char *s)
{
    return wwi_onnx_location_risk((const uint8_t *)s, strlen(s)) != NULL;
}

static void test_locations(void)
{
    CHECK(!risky("weights.bin"));
    CHECK(!risky("data/model.onnx.data"));
    CHECK(!risky("a..b/c..")); /* dots inside names are fine */
    CHECK(!risky("./x"));
    CHECK(risky(""));
    CHECK(risky("../x"));
    CHECK(risky("a/../../x"));
    CHECK(risky("a/.."));
    CHECK(risky("..\\x"));
    CHECK(risky("/etc/passwd"));
    CHECK(risky("\\\\server\\share\\x"));
    CHECK(risky("C:\\x"));
    CHECK(risky("c:x"));
    CHECK(risky("file:///etc/passwd"));
    CHECK(risky("FILE:x"));
    CHECK(risky("http://example.com/w"));
    CHECK(wwi_onnx_location_risk((const uint8_t *)"ok\0/../x", 8) != NULL); /* NUL */
}

static void test_raw_size(void)
{
    uint64_t b;
    CHECK(wwi_onnx_raw_size(1, 6, &b) && b == 24);   /* FLOAT */
    CHECK(wwi_onnx_raw_size(15, 2, &b) && b == 32);  /* COMPLEX128 */
    CHECK(wwi_onnx_raw_size(22, 3, &b) && b == 2);   /* INT4 packed, padded */
    CHECK(wwi_onnx_raw_size(1, 0, &b) && b == 0);
    CHECK(!wwi_onnx_raw_size(8, 1, &b));             /* STRING */
    CHECK(!wwi_onnx_raw_size(0, 1, &b));             /* UNDEFINED */
    CHECK(!wwi_onnx_raw_size(999, 1, &b));
    CHECK(!wwi_onnx_raw_size(15, UINT64_MAX / 8, &b)); /* overflow */
}

static void test_probe(void)
{
    const wwi_format *onnx = wwi_format_by_name("onnx");
    /* ir_version 8, producer "pytorch", graph {} */
    const uint8_t m[] = {0x08, 0x08, 0x12, 0x07, 'p', 'y', 't', 'o', 'r', 'c', 'h', 0x3a, 0x00};
    CHECK(onnx && onnx->probe(m, sizeof m, sizeof m) >= 50);
    CHECK(wwi_format_detect(m, sizeof m, sizeof m) == onnx);
    /* cut head of a bigger file still probes */
    CHECK(onnx->probe(m, 8, 1000) == 0 || onnx->probe(m, 8, 1000) >= 50);
    /* ir_version 99: no */
    const uint8_t bad[] = {0x08, 0x63, 0x3a, 0x00};
    CHECK(onnx->probe(bad, sizeof bad, sizeof bad) == 0);
    /* SavedModel head: not ONNX */
    const uint8_t sm[] = {0x08, 0x01, 0x12, 0x04, 0x12, 0x02, 0x0a, 0x00};
    CHECK(onnx->probe(sm, sizeof sm, sizeof sm) == 0);
    CHECK(onnx->probe((const uint8_t *)"hello", 5, 5) == 0);
}

int main(void)
{
    test_locations();
    test_raw_size();
    test_probe();
    return CHECK_DONE();
}
