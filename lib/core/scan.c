/* The scan driver: one wwi_scan per input file; detection, dispatch, the
 * nesting stack, budgets, findings and errors. Modules report; the verdict is
 * computed here (wwi_result_finish) and nowhere else. */
#include <stdio.h>
#include <string.h>
#include "core/engine.h"
#include "core/result.h"
#include "core/scan.h"
#include "formats/format.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/strutil.h"

struct wwi_scan {
    const ww_engine *eng;
    ww_result *res;
    char path[4096];     /* layer path of the current layer (no allocation: it must
                          * survive allocation failures in nested layers) */
    size_t path_len;
    size_t layer;        /* index of the current layer in res->layers */
    uint32_t depth;
    uint64_t members, inflated;
    uint64_t deadline;   /* monotonic ns; 0 = none */
    uint32_t time_tick;
    bool out_of_time;
    void *hint, *pending_hint;
    char ext[16];
};

const ww_limits *wwi_scan_limits(const wwi_scan *s) { return &s->eng->limits; }
const ww_engine *wwi_scan_engine(const wwi_scan *s) { return s->eng; }
uint32_t wwi_scan_depth(const wwi_scan *s) { return s->depth; }
const char *wwi_scan_member(const wwi_scan *s) { return s->path; }
const char *wwi_scan_display(const wwi_scan *s) { return s->res->path; }
const char *wwi_scan_ext(const wwi_scan *s) { return s->ext; }
void wwi_scan_set_hint(wwi_scan *s, void *hint) { s->pending_hint = hint; }
void *wwi_scan_hint(const wwi_scan *s) { return s->hint; }

const char *wwi_scan_strdup(wwi_scan *s, const char *str, size_t len)
{
    return wwi_result_str(s->res, str, len);
}

static const char *arena_str(wwi_scan *s, const char *str)
{
    return wwi_result_text(s->res, str);
}

static ww_finding *push_record(ww_finding **arr, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        void *p = *arr;
        if (wwi_realloc(&p, nc * sizeof(ww_finding)) != WW_OK)
            return NULL;
        *arr = p;
        *cap = nc;
    }
    ww_finding *f = &(*arr)[(*n)++];
    memset(f, 0, sizeof *f);
    return f;
}

static void vfinding(wwi_scan *s, ww_severity sev, const char *kind, const char *module,
                     const char *name, uint64_t offset, const char *fmt, va_list ap)
{
    ww_result *r = s->res;
    /* The verdict counts every finding, even those past the cap. */
    if (sev > r->max_sev)
        r->max_sev = sev;
    if (r->nfind >= s->eng->limits.max_findings) {
        r->dropped++;
        return;
    }
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    ww_finding *f = push_record(&r->findings, &r->nfind, &r->capfind);
    if (!f) {
        r->dropped++;
        if (r->status == WW_OK)
            r->status = WW_E_NOMEM;
        return;
    }
    f->severity = sev;
    f->kind = arena_str(s, kind);
    f->module = arena_str(s, module);
    f->name = arena_str(s, name);
    f->member = arena_str(s, wwi_scan_member(s));
    f->message = arena_str(s, msg);
    f->offset = offset;
}

void wwi_finding(wwi_scan *s, ww_severity sev, const char *kind, const char *module,
                 const char *name, uint64_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfinding(s, sev, kind, module, name, offset, fmt, ap);
    va_end(ap);
}

static void verror(wwi_scan *s, ww_status st, uint64_t offset, const char *fmt, va_list ap)
{
    ww_result *r = s->res;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    const char *member = wwi_scan_member(s);
    if (r->status == WW_OK) {
        char full[1700];
        if (member[0])
            snprintf(full, sizeof full, "%.600s: %s", member, msg);
        else
            snprintf(full, sizeof full, "%s", msg);
        r->status = st;
        r->error = arena_str(s, full);
    }
    if (r->nerr >= 1000)
        return;
    ww_finding *f = push_record(&r->errors, &r->nerr, &r->caperr);
    if (!f)
        return;
    f->severity = WW_SEV_NONE;
    f->kind = ww_status_name(st);
    f->member = arena_str(s, member);
    f->message = arena_str(s, msg);
    f->offset = offset;
}

ww_status wwi_scan_error(wwi_scan *s, ww_status st, uint64_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(s, st, offset, fmt, ap);
    va_end(ap);
    return st;
}

ww_status wwi_scan_limit(wwi_scan *s, const char *limit_name, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* A note, not a severity: the error below makes the file non-clean (exit 2,
     * "could not be fully scanned") whatever threshold is in force. */
    wwi_finding(s, WW_SEV_NONE, "limit", NULL, limit_name, UINT64_MAX, "limit %s hit: %s",
                limit_name, msg);
    wwi_scan_error(s, WW_E_LIMIT, UINT64_MAX, "limit %s hit: %s", limit_name, msg);
    return WW_E_LIMIT;
}

ww_status wwi_scan_charge_member(wwi_scan *s)
{
    if (++s->members > s->eng->limits.max_members)
        return wwi_scan_limit(s, "max_members", "more than %u members",
                              (unsigned)s->eng->limits.max_members);
    return WW_OK;
}

ww_status wwi_scan_charge_inflated(wwi_scan *s, uint64_t bytes)
{
    if (__builtin_add_overflow(s->inflated, bytes, &s->inflated) ||
        s->inflated > s->eng->limits.max_inflated_bytes)
        return wwi_scan_limit(s, "max_inflated_bytes", "more than %llu bytes decompressed",
                              (unsigned long long)s->eng->limits.max_inflated_bytes);
    return WW_OK;
}

ww_status wwi_scan_check_time(wwi_scan *s)
{
    if (s->out_of_time)
        return WW_E_TIMEOUT;
    if (s->deadline == 0 || (++s->time_tick & 0x3f) != 0)
        return WW_OK;
    if (wwi_now_ns() > s->deadline) {
        s->out_of_time = true;
        wwi_finding(s, WW_SEV_NONE, "limit", NULL, "max_time_ms", UINT64_MAX,
                    "limit max_time_ms hit: scan took longer than %llu ms",
                    (unsigned long long)s->eng->limits.max_time_ms);
        return wwi_scan_error(s, WW_E_TIMEOUT, UINT64_MAX, "scan time limit (%llu ms) exceeded",
                              (unsigned long long)s->eng->limits.max_time_ms);
    }
    return WW_OK;
}

void wwi_scan_set_format(wwi_scan *s, const char *format_name, bool code_capable)
{
    ww_layer *l = &s->res->layers[s->layer];
    l->format = arena_str(s, format_name);
    l->code_capable = code_capable;
}

/* Extensions under which a model is expected: unknown content there is an
 * error (fail closed), not "not a model". */
static bool model_extension(const char *ext)
{
    static const char *const exts[] = {
        ".pkl", ".pickle", ".pt", ".pth", ".bin", ".ckpt", ".joblib", ".dill", ".npy",
        ".npz", ".h5", ".hdf5", ".keras", ".safetensors", ".gguf", ".onnx", ".pb",
        ".pdparams", ".dat", ".model", ".mar", ".tar", ".zip", ".7z", ".gz", ".bz2", ".xz",
        ".zst", ".tgz",
    };
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (wwi_str_eq(ext, exts[i]))
            return true;
    return false;
}

/* The formats each extension is expected to hold; a layer whose content is
 * something else gets a finding (format inventory, T-EXT-NONSTANDARD). Code-
 * capable content under the extension of a format that cannot carry code
 * (a pickle named .safetensors) is a disguise: HIGH. Other mismatches are LOW. */
static const struct {
    const char *ext;
    bool code_free; /* the expected formats cannot carry code */
    const char *formats;
} ext_formats[] = {
    {".safetensors", true, " safetensors "},
    {".gguf", true, " gguf "},
    {".onnx", true, " onnx "},
    {".npy", true, " numpy "},
    {".npz", true, " npz zip "},
    {".json", true, " json unknown "},
    {".h5", false, " hdf5 keras_h5 "},
    {".hdf5", false, " hdf5 keras_h5 "},
    {".keras", false, " keras_v3 zip hdf5 keras_h5 "},
    {".pb", false, " savedmodel "},
    {".pkl", false, " pickle torch_legacy joblib_zfile "},
    {".pickle", false, " pickle torch_legacy "},
    {".dill", false, " pickle "},
    {".joblib", false, " pickle joblib_zfile zlib gz bz2 xz lzma zst lz4 "},
    {".pt", false, " pytorch_zip torchscript torch_legacy pickle "},
    {".pth", false, " pytorch_zip torchscript torch_legacy pickle "},
    {".ckpt", false, " pytorch_zip torchscript torch_legacy pickle "},
    {".bin", false, " pytorch_zip torchscript torch_legacy pickle "},
    {".zip", false, " zip npz pytorch_zip torchscript keras_v3 "},
};

static void check_extension(wwi_scan *s)
{
    const ww_layer *l = &s->res->layers[s->layer];
    char want[40];
    for (size_t i = 0; i < sizeof ext_formats / sizeof ext_formats[0]; i++) {
        if (!wwi_str_eq(s->ext, ext_formats[i].ext))
            continue;
        snprintf(want, sizeof want, " %s ", l->format);
        if (strstr(ext_formats[i].formats, want))
            return;
        bool disguise = ext_formats[i].code_free && l->code_capable;
        wwi_finding(s, disguise ? WW_SEV_HIGH : WW_SEV_LOW, "format", NULL, l->format, 0,
                    "content is %s but the name says %s%s", l->format, s->ext,
                    disguise ? ": code-capable content disguised as a format that cannot "
                               "carry code"
                             : "");
        return;
    }
}

static ww_status push_layer(wwi_scan *s, uint64_t size)
{
    ww_result *r = s->res;
    if (r->nlayers == r->caplayers) {
        size_t nc = r->caplayers ? r->caplayers * 2 : 8;
        void *p = r->layers;
        ww_status st = wwi_realloc(&p, nc * sizeof(ww_layer));
        if (st != WW_OK)
            return st;
        r->layers = p;
        r->caplayers = nc;
    }
    ww_layer *l = &r->layers[r->nlayers];
    l->member = arena_str(s, wwi_scan_member(s));
    l->format = "unknown";
    l->code_capable = false;
    l->size = size;
    if (!l->member)
        return WW_E_NOMEM;
    s->layer = r->nlayers++;
    return WW_OK;
}

/* Scan the current layer (already pushed). */
static ww_status scan_layer(wwi_scan *s, wwi_src *src, const char *forced)
{
    uint64_t size = wwi_src_size(src);
    const wwi_format *fmt = NULL;
    if (forced) {
        fmt = wwi_format_by_name(forced);
        if (!fmt)
            return wwi_scan_error(s, WW_E_INTERNAL, 0, "no format module '%s'", forced);
    } else {
        size_t n = size < WWI_PROBE_BYTES ? (size_t)size : WWI_PROBE_BYTES;
        const uint8_t *head = (const uint8_t *)"";
        if (n > 0) {
            ww_status st = wwi_src_view(src, 0, n, &head);
            if (st != WW_OK)
                return wwi_scan_error(s, st, 0, "cannot read the first bytes: %s",
                                      ww_strerror(st));
        }
        fmt = wwi_format_detect(head, n, size);
    }
    if (!fmt) {
        /* T-HUB-INDIRECTION: Python files in a model repo run with
         * trust_remote_code (modeling_*.py) or torch.hub.load (hubconf.py). */
        if (wwi_str_eq(s->ext, ".py")) {
            wwi_scan_set_format(s, "python", true);
            wwi_finding(s, WW_SEV_MEDIUM, "code", NULL, NULL, UINT64_MAX,
                        "Python source in a model repository: executes only with "
                        "trust_remote_code / torch.hub.load, but then runs as is");
            return WW_OK;
        }
        if (model_extension(s->ext))
            return wwi_scan_error(s, WW_E_FORMAT, 0,
                                  size == 0 ? "empty file where a model (%s) was expected"
                                            : "content is not a recognised model format "
                                              "(extension %s)",
                                  s->ext);
        if (s->depth == 0)
            s->res->skipped = true;
        return WW_OK;
    }
    wwi_scan_set_format(s, fmt->name, (fmt->flags & WWI_FMT_CODE_CAPABLE) != 0);
    if (!fmt->scan)
        return wwi_scan_error(s, WW_E_UNSUPPORTED, 0,
                              "detected %s, but this build has no parser for it", fmt->name);
    size_t nerr_before = s->res->nerr;
    ww_status st = fmt->scan(s, src);
    if (st != WW_OK && s->res->nerr == nerr_before)
        wwi_scan_error(s, st, UINT64_MAX, "%s: %s", fmt->name, ww_strerror(st));
    check_extension(s);
    return st;
}

static bool fatal(ww_status st)
{
    return st == WW_E_NOMEM || st == WW_E_TIMEOUT || st == WW_E_INTERNAL;
}

static ww_status nested(wwi_scan *s, wwi_src *child, const char *name, const char *forced)
{
    ww_status st = wwi_scan_charge_member(s);
    if (st != WW_OK)
        return st;
    if (s->depth + 1 > s->eng->limits.max_depth) {
        wwi_scan_limit(s, "max_depth", "'%s' is nested %u levels deep", name,
                       (unsigned)(s->depth + 1));
        return WW_OK; /* recorded; the parent goes on with its other members */
    }
    size_t saved_len = s->path_len;
    size_t saved_layer = s->layer;
    void *saved_hint = s->hint;
    char saved_ext[sizeof s->ext];
    memcpy(saved_ext, s->ext, sizeof saved_ext);

    size_t nlen = strlen(name);
    if (nlen + 1 >= sizeof s->path - saved_len)
        return wwi_scan_limit(s, "max_depth", "layer path longer than %zu bytes at '%s'",
                              sizeof s->path - 1, name);
    if (saved_len > 0)
        s->path[s->path_len++] = '/';
    memcpy(s->path + s->path_len, name, nlen + 1);
    s->path_len += nlen;
    wwi_path_ext(name, s->ext, sizeof s->ext);
    s->hint = s->pending_hint;
    s->pending_hint = NULL;
    s->depth++;

    st = push_layer(s, wwi_src_size(child));
    if (st == WW_OK)
        st = scan_layer(s, child, forced);

    s->depth--;
    s->hint = saved_hint;
    s->layer = saved_layer;
    memcpy(s->ext, saved_ext, sizeof saved_ext);
    s->path_len = saved_len;
    s->path[saved_len] = '\0';
    return fatal(st) ? st : WW_OK;
}

ww_status wwi_scan_nested(wwi_scan *s, wwi_src *child, const char *name)
{
    return nested(s, child, name, NULL);
}

ww_status wwi_scan_nested_as(wwi_scan *s, wwi_src *child, const char *name, const char *format)
{
    return nested(s, child, name, format);
}

ww_status wwi_scan_nested_mem(wwi_scan *s, const uint8_t *data, size_t len, const char *name)
{
    wwi_src *child = NULL;
    ww_status st = wwi_src_memory(data, len, &child);
    if (st != WW_OK)
        return wwi_scan_error(s, st, UINT64_MAX, "cannot open member '%s'", name);
    st = nested(s, child, name, NULL);
    wwi_src_free(child);
    return st;
}

/* Run one whole scan of `src` into a new result. `forced` names the format of
 * layer 0 (fuzz targets per format), NULL to detect. */
static ww_status run_as(const ww_engine *e, wwi_src *src, const char *display,
                        const char *open_err, ww_status open_st, const char *forced,
                        ww_result **out)
{
    ww_result *r = wwi_result_new();
    if (!r)
        return WW_E_NOMEM;
    r->threshold = e->threshold;
    r->path = wwi_result_text(r, display);
    wwi_scan s;
    memset(&s, 0, sizeof s);
    s.eng = e;
    s.res = r;
    wwi_path_ext(display, s.ext, sizeof s.ext);
    uint64_t t0 = wwi_now_ns();
    if (e->limits.max_time_ms)
        s.deadline = t0 + e->limits.max_time_ms * 1000000ull;

    wwi_alloc_cfg cfg = {e->limits.max_alloc, e->fail_alloc, 0, false}, saved;
    wwi_alloc_configure(&cfg, &saved);

    ww_status st = push_layer(&s, src ? wwi_src_size(src) : 0);
    if (st == WW_OK && !r->path)
        st = WW_E_NOMEM;
    if (st == WW_OK && !src)
        wwi_scan_error(&s, open_st, UINT64_MAX, "%s", open_err);
    else if (st == WW_OK) {
        r->size = wwi_src_size(src);
        scan_layer(&s, src, forced);
        r->bytes_read = wwi_src_bytes_read(src);
    } else if (r->path) {
        r->status = st;
        r->error = "out of memory";
    }
    if (wwi_alloc_current()->failed && r->status == WW_OK)
        r->status = WW_E_NOMEM; /* an injected fault may have been absorbed: never clean */
    wwi_alloc_restore(&saved);
    if (!r->path) {
        ww_result_free(r);
        return WW_E_NOMEM;
    }
    r->elapsed_ns = wwi_now_ns() - t0;
    wwi_result_finish(r);
    *out = r;
    return WW_OK;
}

static ww_status run(const ww_engine *e, wwi_src *src, const char *display, const char *open_err,
                     ww_status open_st, ww_result **out)
{
    return run_as(e, src, display, open_err, open_st, NULL, out);
}

ww_status wwi_scan_memory_as(const ww_engine *e, const void *data, size_t len,
                             const char *format, ww_result **out)
{
    wwi_src *src = NULL;
    *out = NULL;
    ww_status st = wwi_src_memory(data ? data : "", len, &src);
    if (st != WW_OK)
        return st;
    st = run_as(e, src, "<fuzz>", NULL, WW_OK, format, out);
    wwi_src_free(src);
    return st;
}

ww_status ww_scan_file(const ww_engine *e, const char *path, const char *display, ww_result **out)
{
    if (!e || !path || !out)
        return WW_E_ARG;
    *out = NULL;
    char err[256] = "";
    wwi_src *src = NULL;
    ww_status st = wwi_src_file(path, &src, err, sizeof err);
    ww_status rc = run(e, st == WW_OK ? src : NULL, display ? display : path, err, st, out);
    wwi_src_free(src);
    return rc;
}

ww_status ww_scan_fd(const ww_engine *e, int fd, const char *display, ww_result **out)
{
    if (!e || fd < 0 || !display || !out)
        return WW_E_ARG;
    *out = NULL;
    char err[256] = "";
    wwi_src *src = NULL;
    ww_status st = wwi_src_fd(fd, &src, err, sizeof err);
    ww_status rc = run(e, st == WW_OK ? src : NULL, display, err, st, out);
    wwi_src_free(src);
    return rc;
}

ww_status ww_scan_memory(const ww_engine *e, const void *data, size_t len, const char *display,
                         ww_result **out)
{
    if (!e || (!data && len) || !out)
        return WW_E_ARG;
    *out = NULL;
    wwi_src *src = NULL;
    ww_status st = wwi_src_memory(data ? data : "", len, &src);
    if (st != WW_OK)
        return st;
    ww_status rc = run(e, src, display ? display : "<memory>", NULL, WW_OK, out);
    wwi_src_free(src);
    return rc;
}

ww_status ww_scan_source(const ww_engine *e, ww_source *cb, const char *display, ww_result **out)
{
    if (!e || !cb || !out)
        return WW_E_ARG;
    *out = NULL;
    wwi_src *src = NULL;
    ww_status st = wwi_src_callback(cb, &src);
    if (st != WW_OK)
        return st;
    ww_status rc = run(e, src, display ? display : "<source>", NULL, WW_OK, out);
    wwi_src_free(src);
    return rc;
}
