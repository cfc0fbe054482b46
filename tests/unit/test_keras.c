/* Keras config analysis end to end through the hdf5 module: each case is a
 * JSON config stored as the model_config root attribute of an HDF5 file built
 * in memory with libhdf5, then scanned with ww_scan_memory. The analyser is
 * layout-agnostic, so Keras 3 config.json documents are tested the same way. */
#include <jansson.h>
#include "check.h"
#include "ww_config.h"
#include "formats/keras/keras.h"
#include "weightwall.h"
#if WW_HAVE_HDF5
#include <hdf5.h>

/* base64(marshal(code of "lambda x: __import__('os').system('id') or x")), 3.11 */
#define LAMBDA_OS                                                                             \
    "4wEAAAAAAAAAAAAAAAMAAAADAAAA80oAAACXAHQBAAAAAAAAAAAAAGQBpgEAAKsBAAAAAAAAAACgAQAAAAAAAAA" \
    "AAAAAAAAAAAAAAAAAZAKmAQAAqwEAAAAAAAAAAHABfABTACkDTtoCb3PaAmlkKQLaCl9faW1wb3J0X1/aBnN5c3R" \
    "lbSkB2gF4cwEAAAAg+gg8bGFtYmRhPvoIPGxhbWJkYT5yCAAAAAEAAABzIQAAAIAAjSqQVNEKGtQKGtcKIdIKIaAk" \
    "0Qon1Aon0AosqDGAAPMAAAAA"

static ww_engine *eng;

/* An HDF5 file image whose root has model_config = json (fixed-length string). */
static void *make_h5(const char *json, size_t *len)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(fapl, 4096, 0);
    hid_t f = H5Fcreate("test-keras-in-memory.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(json));
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "model_config", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, json);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    H5Fflush(f, H5F_SCOPE_GLOBAL);
    ssize_t n = H5Fget_file_image(f, NULL, 0);
    void *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (buf)
        H5Fget_file_image(f, buf, (size_t)n);
    H5Fclose(f);
    H5Pclose(fapl);
    *len = n > 0 ? (size_t)n : 0;
    return buf;
}

static ww_result *scan_json(const char *json)
{
    size_t len = 0;
    void *img = make_h5(json, &len);
    ww_result *r = NULL;
    if (!img || ww_scan_memory(eng, img, len, "t.h5", &r) != WW_OK)
        r = NULL;
    free(img);
    return r;
}

static bool has(const ww_result *r, ww_severity sev, const char *kind, const char *needle)
{
    for (size_t i = 0; i < ww_result_finding_count(r); i++) {
        const ww_finding *f = ww_result_finding(r, i);
        if (f->severity == sev && (!kind || (f->kind && strcmp(f->kind, kind) == 0)) &&
            (!needle || (f->message && strstr(f->message, needle))))
            return true;
    }
    return false;
}

#define SEQ(layers) "{\"class_name\":\"Sequential\",\"config\":{\"name\":\"s\",\"layers\":[" layers "]}}"

static void expect(const char *json, ww_verdict v, ww_severity max, const char *kind,
                   const char *needle, int line)
{
    ww_result *r = scan_json(json);
    CHECK(r != NULL);
    if (!r)
        return;
    bool ok = ww_result_verdict(r) == v && ww_result_max_severity(r) == max &&
              (!kind || has(r, max, kind, needle));
    if (!ok) {
        fprintf(stderr, "line %d: verdict %s max %s; findings:\n", line,
                ww_verdict_name(ww_result_verdict(r)),
                ww_severity_name(ww_result_max_severity(r)));
        for (size_t i = 0; i < ww_result_finding_count(r); i++)
            fprintf(stderr, "  %s %s %s\n", ww_severity_name(ww_result_finding(r, i)->severity),
                    ww_result_finding(r, i)->kind, ww_result_finding(r, i)->message);
        if (ww_result_error(r))
            fprintf(stderr, "  error: %s\n", ww_result_error(r));
    }
    CHECK(ok);
    CHECK(strcmp(ww_result_format(r), "keras_h5") == 0);
    ww_result_free(r);
}
#define EXPECT(json, v, max, kind, needle) expect(json, v, max, kind, needle, __LINE__)

static void test_benign(void)
{
    /* Keras 2 style */
    EXPECT(SEQ("{\"class_name\":\"InputLayer\",\"config\":{\"name\":\"in\",\"batch_input_shape\":[null,2]}},"
               "{\"class_name\":\"Dense\",\"config\":{\"name\":\"d\",\"units\":3,\"activation\":\"relu\","
               "\"kernel_initializer\":{\"class_name\":\"GlorotUniform\",\"config\":{\"seed\":null}}}}"),
           WW_VERDICT_CLEAN, WW_SEV_NONE, NULL, NULL);
    /* Keras 3 style, with module / registered_name and a loss function reference */
    EXPECT("{\"module\":\"keras\",\"class_name\":\"Sequential\",\"config\":{\"name\":\"s\","
           "\"dtype\":{\"module\":\"keras\",\"class_name\":\"DTypePolicy\",\"config\":{\"name\":\"float32\"},\"registered_name\":null},"
           "\"layers\":[{\"module\":\"keras.layers\",\"class_name\":\"Dense\",\"config\":{\"name\":\"d\",\"units\":2},"
           "\"registered_name\":null,\"build_config\":{\"input_shape\":[null,4]}}]},"
           "\"compile_config\":{\"loss\":{\"module\":\"keras.losses\",\"class_name\":\"function\","
           "\"config\":\"mean_squared_error\",\"registered_name\":\"mean_squared_error\"}}}",
           WW_VERDICT_CLEAN, WW_SEV_NONE, NULL, NULL);
    /* A custom registered object is named (LOW) but not unsafe. */
    EXPECT(SEQ("{\"module\":\"keras.layers\",\"class_name\":\"MyLayer\",\"config\":{\"name\":\"m\"},"
               "\"registered_name\":\"my_pkg>MyLayer\"}"),
           WW_VERDICT_CLEAN, WW_SEV_LOW, "custom", "my_pkg>MyLayer");
}

static void test_lambda(void)
{
    /* Keras 2 H5: [code, defaults, closure] */
    EXPECT(SEQ("{\"class_name\":\"Lambda\",\"config\":{\"name\":\"lam\",\"function\":[\"" LAMBDA_OS
               "\",null,null],\"function_type\":\"lambda\",\"module\":\"__main__\"}}"),
           WW_VERDICT_UNSAFE, WW_SEV_CRITICAL, "lambda", "system");
    /* Keras 3: {"class_name": "__lambda__", "config": {"code": ...}} */
    EXPECT(SEQ("{\"module\":\"keras.layers\",\"class_name\":\"Lambda\",\"config\":{\"name\":\"lam\","
               "\"function\":{\"class_name\":\"__lambda__\",\"config\":{\"code\":\"" LAMBDA_OS
               "\",\"defaults\":null,\"closure\":null}}},\"registered_name\":null}"),
           WW_VERDICT_UNSAFE, WW_SEV_CRITICAL, "lambda", "__import__");
    /* Inside a wrapper inside a nested functional model */
    EXPECT(SEQ("{\"class_name\":\"Functional\",\"config\":{\"name\":\"inner\",\"layers\":["
               "{\"class_name\":\"TimeDistributed\",\"config\":{\"name\":\"td\",\"layer\":"
               "{\"class_name\":\"Lambda\",\"config\":{\"name\":\"deep\",\"function\":[\"" LAMBDA_OS
               "\",null,null],\"function_type\":\"lambda\"}}}}]}}"),
           WW_VERDICT_UNSAFE, WW_SEV_CRITICAL, "lambda", "'deep'");
    /* A Lambda whose bytecode cannot be decoded stays HIGH and is an error too. */
    {
        ww_result *r = scan_json(SEQ("{\"class_name\":\"Lambda\",\"config\":{\"name\":\"bad\","
                                     "\"function\":[\"!!notbase64\",null,null],\"function_type\":\"lambda\"}}"));
        CHECK(r && ww_result_max_severity(r) == WW_SEV_HIGH);
        CHECK(r && ww_result_status(r) != WW_OK);
        CHECK(r && ww_result_verdict(r) != WW_VERDICT_CLEAN);
        ww_result_free(r);
    }
    /* Function given by name from a dangerous module (Keras 2 function_type). */
    EXPECT(SEQ("{\"class_name\":\"Lambda\",\"config\":{\"name\":\"byname\",\"function\":\"system\","
               "\"function_type\":\"function\",\"module\":\"os\"}}"),
           WW_VERDICT_UNSAFE, WW_SEV_CRITICAL, NULL, NULL);
    /* Lambda output_shape with its own bytecode in an unrelated layer */
    EXPECT(SEQ("{\"class_name\":\"Custom\",\"config\":{\"name\":\"c\",\"output_shape\":[\"" LAMBDA_OS
               "\",null,null],\"output_shape_type\":\"lambda\"}}"),
           WW_VERDICT_UNSAFE, WW_SEV_CRITICAL, "lambda", "system");
}

static void test_injection(void)
{
    EXPECT(SEQ("{\"module\":\"os\",\"class_name\":\"system\",\"config\":{\"command\":\"true\"},"
               "\"registered_name\":\"system\"}"),
           WW_VERDICT_UNSAFE, WW_SEV_CRITICAL, "import", "os.system");
    EXPECT(SEQ("{\"module\":\"builtins\",\"class_name\":\"function\",\"config\":\"exec\","
               "\"registered_name\":\"exec\"}"),
           WW_VERDICT_UNSAFE, WW_SEV_CRITICAL, "import", "builtins.exec");
    EXPECT(SEQ("{\"module\":\"keras.config\",\"class_name\":\"function\","
               "\"config\":\"enable_unsafe_deserialization\",\"registered_name\":null}"),
           WW_VERDICT_UNSAFE, WW_SEV_CRITICAL, "gadget", "enable_unsafe_deserialization");
    EXPECT(SEQ("{\"module\":\"keras.layers\",\"class_name\":\"TFSMLayer\",\"config\":{\"name\":\"t\","
               "\"filepath\":\"saved\"}}"),
           WW_VERDICT_UNSAFE, WW_SEV_HIGH, "gadget", "TFSMLayer");
    EXPECT(SEQ("{\"module\":\"my_pkg.layers\",\"class_name\":\"Thing\",\"config\":{\"name\":\"t\"}}"),
           WW_VERDICT_UNSAFE, WW_SEV_MEDIUM, "import", "my_pkg.layers.Thing");
    EXPECT(SEQ("{\"class_name\":\"Dense\",\"config\":{\"name\":\"d\",\"activation\":{\"function\":\"subprocess.Popen\"}}}"),
           WW_VERDICT_UNSAFE, WW_SEV_CRITICAL, "import", "subprocess.Popen");
    EXPECT(SEQ("{\"class_name\":\"Dense\",\"config\":{\"name\":\"d\",\"vocabulary\":\"https://evil.example/v.txt\"}}"),
           WW_VERDICT_UNSAFE, WW_SEV_MEDIUM, "path", "https://");
}

static void test_malformed(void)
{
    ww_result *r = scan_json("{\"class_name\": ");
    CHECK(r && ww_result_verdict(r) == WW_VERDICT_ERROR);
    ww_result_free(r);
    /* duplicate keys: Python keeps the last, we refuse to guess */
    r = scan_json("{\"class_name\":\"Dense\",\"class_name\":\"Lambda\",\"config\":{}}");
    CHECK(r && ww_result_verdict(r) != WW_VERDICT_CLEAN);
    ww_result_free(r);
    /* nesting deeper than max_json_depth (128) */
    char deep[2 * 300 + 64];
    size_t n = 0;
    n += (size_t)snprintf(deep + n, sizeof deep - n, "{\"class_name\":\"X\",\"config\":");
    for (int i = 0; i < 300; i++)
        deep[n++] = '[';
    for (int i = 0; i < 300; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    r = scan_json(deep);
    CHECK(r && ww_result_verdict(r) != WW_VERDICT_CLEAN);
    CHECK(r && ww_result_status(r) == WW_E_LIMIT);
    ww_result_free(r);
}

static void test_is_config(void)
{
    json_t *j = json_loads("{\"class_name\":\"Sequential\",\"config\":{}}", 0, NULL);
    CHECK(wwi_keras_json_is_config(j));
    json_decref(j);
    j = json_loads("{\"keras_version\":\"3.3.0\",\"date_saved\":\"x\"}", 0, NULL);
    CHECK(wwi_keras_json_is_config(j));
    json_decref(j);
    j = json_loads("{\"model_type\":\"bert\"}", 0, NULL);
    CHECK(!wwi_keras_json_is_config(j));
    json_decref(j);
    j = json_loads("[1,2]", 0, NULL);
    CHECK(!wwi_keras_json_is_config(j));
    json_decref(j);
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (ww_engine_new(&eng) != WW_OK)
        return 1;
    test_is_config();
    test_benign();
    test_lambda();
    test_injection();
    test_malformed();
    ww_engine_free(eng);
    return CHECK_DONE();
}
#else
int main(void)
{
    printf("libhdf5 not built: Keras H5 tests skipped\n");
    return 0;
}
#endif
