/* GGUF header parser: valid v1/v2/v3 files, truncation, lying counts and
 * lengths, nested arrays, tensor layout, chat templates. Bytes built by hand. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "weightwall.h"

static ww_engine *eng;
static uint8_t buf[1 << 16];
static size_t len;
static int ver;

static void u8(uint8_t v) { buf[len++] = v; }
static void u32(uint32_t v) { for (int i = 0; i < 4; i++) u8((uint8_t)(v >> (8 * i))); }
static void u64(uint64_t v) { for (int i = 0; i < 8; i++) u8((uint8_t)(v >> (8 * i))); }
static void cnt(uint64_t v) { if (ver == 1) u32((uint32_t)v); else u64(v); }
static void str(const char *s) { cnt(strlen(s)); memcpy(buf + len, s, strlen(s)); len += strlen(s); }
static void head(int v, uint64_t nt, uint64_t nkv)
{
    len = 0;
    ver = v;
    memcpy(buf, "GGUF", 4);
    len = 4;
    u32((uint32_t)v);
    cnt(nt);
    cnt(nkv);
}
static void kv_str(const char *k, const char *v) { str(k); u32(8); str(v); }
static void tensor(const char *name, uint64_t ne0, uint64_t ne1, uint32_t type, uint64_t off)
{
    str(name);
    u32(2);
    cnt(ne0);
    cnt(ne1);
    u32(type);
    u64(off);
}
static void pad(void) { while (len % 32) u8(0); }
static void zeros(size_t n) { memset(buf + len, 0, n); len += n; }

static ww_result *scan(void)
{
    ww_result *r = NULL;
    if (ww_scan_memory(eng, buf, len, "m.gguf", &r) != WW_OK)
        return NULL;
    return r;
}

static ww_verdict verdict(void)
{
    ww_result *r = scan();
    ww_verdict v = r ? ww_result_verdict(r) : WW_VERDICT_ERROR;
    if (r && ww_result_error(r) && getenv("WW_DEBUG"))
        fprintf(stderr, "  error: %s\n", ww_result_error(r));
    ww_result_free(r);
    return v;
}

static void test_valid_versions(void)
{
    for (int v = 1; v <= 3; v++) {
        head(v, 2, 2);
        kv_str("general.architecture", "llama");
        str("general.alignment");
        u32(4);
        u32(32);
        tensor("a", 64, 2, 0, 0);   /* F32: 512 bytes */
        tensor("b", 256, 1, 12, 512); /* Q4_K: 144 bytes */
        pad();
        zeros(512 + 144);
        ww_result *r = scan();
        CHECK(r && ww_result_verdict(r) == WW_VERDICT_CLEAN);
        CHECK(r && strcmp(ww_result_format(r), "gguf") == 0 && !ww_result_code_capable(r));
        ww_result_free(r);
    }
}

static void test_lies(void)
{
    head(3, 0, UINT64_C(1) << 63); /* absurd n_kv: must fail fast */
    zeros(64);
    CHECK(verdict() == WW_VERDICT_ERROR);
    head(3, UINT64_C(1) << 62, 0);
    zeros(64);
    CHECK(verdict() == WW_VERDICT_ERROR);
    head(3, 0, 1); /* string length of 2^63 */
    u64(UINT64_C(1) << 63);
    zeros(16);
    CHECK(verdict() == WW_VERDICT_ERROR);
    head(3, 0, 1); /* array count larger than the file */
    str("k");
    u32(9);
    u32(4);
    u64(1000000);
    zeros(16);
    CHECK(verdict() == WW_VERDICT_ERROR);
    head(3, 0, 1); /* unknown value type */
    str("k");
    u32(13);
    zeros(8);
    CHECK(verdict() == WW_VERDICT_ERROR);
    head(4, 0, 0); /* unknown version */
    CHECK(verdict() == WW_VERDICT_ERROR);
    head(3, 0, 1); /* truncated inside a key */
    str("general.architecture");
    len -= 5;
    CHECK(verdict() == WW_VERDICT_ERROR);
    head(3, 0, 2); /* duplicate key */
    kv_str("a", "x");
    kv_str("a", "y");
    CHECK(verdict() == WW_VERDICT_ERROR);
    head(3, 0, 1); /* alignment not a power of two */
    str("general.alignment");
    u32(4);
    u32(24);
    CHECK(verdict() == WW_VERDICT_ERROR);
}

static void test_nested_arrays(void)
{
    head(3, 0, 1); /* [[1,2]] : fine */
    str("k");
    u32(9);
    u32(9);
    u64(1);
    u32(4);
    u64(2);
    u32(1);
    u32(2);
    CHECK(verdict() == WW_VERDICT_CLEAN);
    head(3, 0, 1); /* 20 levels deep: refused */
    str("k");
    u32(9);
    for (int i = 0; i < 20; i++) {
        u32(9);
        u64(1);
    }
    u32(4);
    u64(0);
    CHECK(verdict() == WW_VERDICT_ERROR);
}

static void test_tensors(void)
{
    head(3, 1, 0); /* data past EOF */
    tensor("a", 64, 2, 0, 0);
    pad();
    zeros(100);
    CHECK(verdict() == WW_VERDICT_ERROR);
    head(3, 2, 0); /* overlap */
    tensor("a", 8, 1, 0, 0);
    tensor("b", 8, 1, 0, 0);
    pad();
    zeros(64);
    CHECK(verdict() == WW_VERDICT_ERROR);
    head(3, 1, 0); /* unknown ggml type */
    tensor("a", 8, 1, 99, 0);
    pad();
    zeros(64);
    CHECK(verdict() == WW_VERDICT_ERROR);
    head(3, 1, 0); /* n_dims 5 */
    str("a");
    u32(5);
    for (int i = 0; i < 5; i++)
        u64(1);
    u32(0);
    u64(0);
    pad();
    zeros(32);
    CHECK(verdict() == WW_VERDICT_ERROR);
    head(3, 1, 0); /* dimension product overflows */
    tensor("a", UINT64_C(1) << 40, UINT64_C(1) << 40, 0, 0);
    pad();
    CHECK(verdict() == WW_VERDICT_ERROR);
    head(3, 1, 0); /* misaligned offset */
    tensor("a", 1, 1, 0, 4);
    pad();
    zeros(64);
    CHECK(verdict() == WW_VERDICT_ERROR);
    head(3, 1, 0); /* row not a multiple of the block */
    tensor("a", 30, 1, 2, 0);
    pad();
    zeros(64);
    CHECK(verdict() == WW_VERDICT_ERROR);
}

static void test_templates(void)
{
    head(3, 0, 2);
    kv_str("tokenizer.chat_template",
           "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' }}{% endfor %}");
    kv_str("tokenizer.chat_template.tool_use",
           "{{ cycler.__init__.__globals__.os.popen('id').read() }}");
    ww_result *r = scan();
    CHECK(r && ww_result_verdict(r) == WW_VERDICT_UNSAFE);
    CHECK(r && ww_result_max_severity(r) == WW_SEV_CRITICAL && ww_result_code_capable(r));
    bool named = false;
    for (size_t i = 0; r && i < ww_result_finding_count(r); i++)
        named = named || strcmp(ww_result_finding(r, i)->module,
                                "tokenizer.chat_template.tool_use") == 0;
    CHECK(named);
    ww_result_free(r);
    head(3, 0, 1); /* template key that is not a string */
    str("tokenizer.chat_template");
    u32(4);
    u32(1);
    CHECK(verdict() == WW_VERDICT_ERROR);
    head(3, 0, 1);
    kv_str("tokenizer.chat_template", "{% if x %}never closed");
    CHECK(verdict() == WW_VERDICT_ERROR);
}

int main(void)
{
    if (ww_engine_new(&eng) != WW_OK)
        return 1;
    test_valid_versions();
    test_lies();
    test_nested_arrays();
    test_tensors();
    test_templates();
    ww_engine_free(eng);
    return CHECK_DONE();
}
