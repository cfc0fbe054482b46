/* SavedModel helpers: content classification, op table, whole scans of tiny
 * hand-built protobufs. */
#include "check.h"
#include "formats/savedmodel/savedmodel.h"
#include "weightwall.h"

static void test_classify(void)
{
    int conf;
    /* modelaudit malicious_pyfunc sample: SavedModel without schema version */
    const uint8_t pyfunc[] = {0x12, 0x21, 0x12, 0x1f, 0x0a, 0x0e, 0x0a, 0x05, 'C', 'o', 'n', 's',
                              't', 0x12, 0x05, 'C', 'o', 'n', 's', 't', 0x0a, 0x0d, 0x0a, 0x03,
                              'b', 'a', 'd', 0x12, 0x06, 'P', 'y', 'F', 'u', 'n', 'c'};
    CHECK(wwi_tf_classify(pyfunc, sizeof pyfunc, &conf) == TF_KIND_SAVEDMODEL && conf > 0);
    /* frozen GraphDef: node { name "x" op "Placeholder" } */
    const uint8_t gd[] = {0x0a, 0x10, 0x0a, 0x01, 'x', 0x12, 0x0b, 'P', 'l', 'a', 'c', 'e',
                          'h', 'o', 'l', 'd', 'e', 'r'};
    CHECK(wwi_tf_classify(gd, sizeof gd, &conf) == TF_KIND_GRAPHDEF);
    /* ONNX head is not TensorFlow */
    const uint8_t onnx[] = {0x08, 0x08, 0x12, 0x07, 'p', 'y', 't', 'o', 'r', 'c', 'h'};
    CHECK(wwi_tf_classify(onnx, sizeof onnx, &conf) == TF_KIND_NONE);
    CHECK(wwi_tf_classify((const uint8_t *)"{\"a\": 1}", 8, &conf) == TF_KIND_NONE);
    const uint8_t fp[] = {0x08, 0x95, 0x9a, 0xef, 0x3a, 0x10, 0x05, 0x18, 0x07, 0x20, 0x09};
    CHECK(wwi_tf_classify(fp, sizeof fp, &conf) == TF_KIND_FINGERPRINT);
}

static void test_ops(void)
{
    const char *why;
    CHECK(wwi_tf_op_class((const uint8_t *)"PyFunc", 6, false, &why) == WW_SEV_CRITICAL && why);
    CHECK(wwi_tf_op_class((const uint8_t *)"PyFunc", 6, true, &why) == WW_SEV_CRITICAL);
    CHECK(wwi_tf_op_class((const uint8_t *)"SaveV2", 6, false, &why) == WW_SEV_HIGH);
    CHECK(wwi_tf_op_class((const uint8_t *)"SaveV2", 6, true, &why) == WW_SEV_NONE);
    CHECK(wwi_tf_op_class((const uint8_t *)"RestoreV2", 9, false, &why) == WW_SEV_LOW);
    CHECK(wwi_tf_op_class((const uint8_t *)"MatMul", 6, false, &why) == WW_SEV_NONE && !why);
    CHECK(wwi_tf_op_class((const uint8_t *)"PyFun", 5, false, &why) == WW_SEV_NONE);
    CHECK(wwi_tf_op_class((const uint8_t *)"PyFuncX", 7, false, &why) == WW_SEV_NONE);
}

static ww_verdict scan_bytes(const ww_engine *e, const uint8_t *p, size_t n, const char *name,
                             ww_severity *max)
{
    ww_result *r = NULL;
    if (ww_scan_memory(e, p, n, name, &r) != WW_OK)
        return WW_VERDICT_ERROR;
    ww_verdict v = ww_result_verdict(r);
    *max = ww_result_max_severity(r);
    ww_result_free(r);
    return v;
}

static void test_scan(void)
{
    ww_engine *e = NULL;
    CHECK(ww_engine_new(&e) == WW_OK);
    ww_severity max;
    const uint8_t pyfunc[] = {0x12, 0x21, 0x12, 0x1f, 0x0a, 0x0e, 0x0a, 0x05, 'C', 'o', 'n', 's',
                              't', 0x12, 0x05, 'C', 'o', 'n', 's', 't', 0x0a, 0x0d, 0x0a, 0x03,
                              'b', 'a', 'd', 0x12, 0x06, 'P', 'y', 'F', 'u', 'n', 'c'};
    CHECK(scan_bytes(e, pyfunc, sizeof pyfunc, "saved_model.pb", &max) == WW_VERDICT_UNSAFE &&
          max == WW_SEV_CRITICAL);
    const uint8_t safe[] = {0x12, 0x12, 0x12, 0x10, 0x0a, 0x0e, 0x0a, 0x05, 'C', 'o',
                            'n', 's', 't', 0x12, 0x05, 'C', 'o', 'n', 's', 't'};
    CHECK(scan_bytes(e, safe, sizeof safe, "saved_model.pb", &max) == WW_VERDICT_CLEAN);
    for (size_t cut = 1; cut < sizeof pyfunc; cut++) /* every truncation fails closed */
        CHECK(scan_bytes(e, pyfunc, cut, "saved_model.pb", &max) != WW_VERDICT_CLEAN);
    ww_engine_free(e);
}

int main(void)
{
    test_classify();
    test_ops();
    test_scan();
    return CHECK_DONE();
}
