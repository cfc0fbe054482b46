/* The globals table: sorted, no duplicates, a reason on every row, and spot
 * checks of the classification rules (docs/formats/pickle-globals.md). */
#include "check.h"
#include "formats/pickle/globals.h"
#include "weightwall.h"

static ww_severity cls(const ww_engine *e, const char *m, const char *n, bool *known)
{
    const char *why = NULL;
    ww_severity s = ww_engine_classify_global(e, m, n, &why, known);
    CHECK(why != NULL && why[0] != '\0');
    return s;
}

int main(void)
{
    size_t n = wwi_globals_count();
    CHECK(n > 100);
    for (size_t i = 0; i < n; i++) {
        const wwi_global_rule *r = wwi_globals_row(i);
        CHECK(r->module[0] != '\0' && r->name[0] != '\0');
        CHECK(r->reason && strlen(r->reason) > 3);
        CHECK(r->safe == (r->sev == WW_SEV_NONE));
        if (i > 0) {
            const wwi_global_rule *p = wwi_globals_row(i - 1);
            int c = strcmp(p->module, r->module);
            if (c == 0)
                c = strcmp(p->name, r->name);
            if (c >= 0)
                fprintf(stderr, "unsorted/duplicate row: %s %s\n", r->module, r->name);
            CHECK(c < 0);
        }
    }
    ww_engine *e = NULL;
    bool k = false;
    CHECK(ww_engine_new(&e) == WW_OK);
    CHECK(cls(e, "torch._utils", "_rebuild_tensor_v2", &k) == WW_SEV_NONE && k);
    CHECK(cls(e, "collections", "OrderedDict", &k) == WW_SEV_NONE);
    CHECK(cls(e, "torch.nn.modules.linear", "Linear", &k) == WW_SEV_NONE);
    CHECK(cls(e, "numpy.core.multiarray", "_reconstruct", &k) == WW_SEV_NONE);
    CHECK(cls(e, "numpy._core.multiarray", "_reconstruct", &k) == WW_SEV_NONE);
    CHECK(cls(e, "posix", "system", &k) == WW_SEV_CRITICAL);
    CHECK(cls(e, "subprocess.foo", "bar", &k) == WW_SEV_CRITICAL);   /* submodule */
    CHECK(cls(e, "subprocessx", "bar", &k) == WW_SEV_MEDIUM && !k);  /* dot boundary */
    CHECK(cls(e, "webbrowser", "open", &k) == WW_SEV_HIGH);
    CHECK(cls(e, "builtins", "print", &k) == WW_SEV_MEDIUM && !k);
    CHECK(cls(e, "numpy", "__builtins__", &k) == WW_SEV_CRITICAL);
    CHECK(cls(e, "numpy", "dtype.__class__", &k) == WW_SEV_CRITICAL);
    CHECK(cls(e, "pathlib", "os.system", &k) == WW_SEV_CRITICAL);
    CHECK(cls(e, "collections", "OrderedDict.fromkeys", &k) == WW_SEV_MEDIUM); /* exact only */
    CHECK(cls(e, "sklearn.linear_model._logistic", "LogisticRegression", &k) == WW_SEV_LOW);
    CHECK(cls(e, "sklearn.x", "A.b", &k) == WW_SEV_MEDIUM); /* LOW '*' never covers chains */
    CHECK(cls(e, "torch.utils.bottleneck.__main__", "run_cprofile", &k) == WW_SEV_CRITICAL);
    CHECK(cls(e, "foo.__main__", "x", &k) == WW_SEV_HIGH);
    CHECK(cls(e, "__main__", "MyNet", &k) == WW_SEV_MEDIUM && !k);
    CHECK(cls(e, "types", "SimpleNamespace", &k) == WW_SEV_NONE);
    CHECK(cls(e, "types", "CodeType", &k) == WW_SEV_CRITICAL);
    ww_engine_free(e);
    return CHECK_DONE();
}
