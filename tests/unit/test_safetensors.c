/* safetensors header validation: valid files clean with a note, every lie an
 * error, metadata strings at most LOW. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "weightwall.h"

static ww_engine *eng;
static uint8_t buf[1 << 14];
static size_t len;

/* 8-byte LE header length + header + data_len zero bytes. */
static void build(const char *header, size_t data_len, uint64_t lie_len)
{
    size_t h = strlen(header);
    uint64_t n = lie_len ? lie_len : h;
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(n >> (8 * i));
    memcpy(buf + 8, header, h);
    memset(buf + 8 + h, 0, data_len);
    len = 8 + h + data_len;
}

static ww_result *scan(void)
{
    ww_result *r = NULL;
    if (ww_scan_memory(eng, buf, len, "m.safetensors", &r) != WW_OK)
        return NULL;
    return r;
}

static ww_verdict verdict(void)
{
    ww_result *r = scan();
    ww_verdict v = r ? ww_result_verdict(r) : WW_VERDICT_ERROR;
    if (r && getenv("WW_DEBUG") && ww_result_error(r))
        fprintf(stderr, "  error: %s\n", ww_result_error(r));
    ww_result_free(r);
    return v;
}

static void test_valid(void)
{
    build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
          "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[16,22]},"
          "\"__metadata__\":{\"format\":\"pt\"}}   ",
          22, 0);
    ww_result *r = scan();
    CHECK(r && ww_result_verdict(r) == WW_VERDICT_CLEAN);
    CHECK(r && strcmp(ww_result_format(r), "safetensors") == 0 && !ww_result_code_capable(r));
    CHECK(r && ww_result_finding_count(r) == 1 &&
          strcmp(ww_result_finding(r, 0)->kind, "format") == 0 &&
          ww_result_finding(r, 0)->severity == WW_SEV_NONE);
    ww_result_free(r);
    build("{}", 0, 0); /* no tensors at all */
    CHECK(verdict() == WW_VERDICT_CLEAN);
    build("{\"e\":{\"dtype\":\"F4\",\"shape\":[4,0],\"data_offsets\":[0,0]}}", 0, 0);
    CHECK(verdict() == WW_VERDICT_CLEAN);
}

static void test_lies(void)
{
    static const struct {
        const char *h;
        size_t data;
        uint64_t lie;
    } bad[] = {
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 1ull << 62},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 4000},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, 0},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, 0},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, 0},
        {"{\"a\":{\"dtype\":\"X9\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, 0},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20, 0},
        {"{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}",
         0, 0},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, 0},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, 0},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8, 0},
        {"{\"__metadata__\":{\"k\":1}}", 0, 0},
        {"{\"a\":[1,2]}", 0, 0},
        {"{\"a\":", 0, 0},
        {"{[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
         0, 0},
        {"{\"e\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,1]}}", 1, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        build(bad[i].h, bad[i].data, bad[i].lie);
        /* A limit hit (depth) is UNSAFE by the driver's rules; the rest are errors. */
        ww_verdict v = verdict();
        if (v == WW_VERDICT_CLEAN)
            fprintf(stderr, "safetensors case %zu passed as clean\n", i);
        CHECK(v != WW_VERDICT_CLEAN);
    }
    len = 5; /* shorter than the length prefix */
    memcpy(buf, "\x02\0\0\0\0", 5);
    CHECK(verdict() == WW_VERDICT_ERROR);
}

static void test_metadata_note(void)
{
    build("{\"__metadata__\":{\"info\":\"import os; os.system('echo pwned')\","
          "\"url\":\"https://huggingface.co/x\"}}",
          0, 0);
    ww_result *r = scan();
    CHECK(r && ww_result_verdict(r) == WW_VERDICT_CLEAN);
    CHECK(r && ww_result_max_severity(r) == WW_SEV_LOW);
    ww_result_free(r);
}

int main(void)
{
    if (ww_engine_new(&eng) != WW_OK)
        return 1;
    test_valid();
    test_lies();
    test_metadata_note();
    ww_engine_free(eng);
    return CHECK_DONE();
}
