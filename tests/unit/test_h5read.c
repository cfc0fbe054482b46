/* The bounds-checked HDF5 root-attribute reader (lib/formats/hdf5/h5read.c).
 * Files come from two writers: h5py (embedded below as their non-zero byte
 * runs) and libhdf5 called here (the library under h5py, so the same layouts)
 * in many variants: superblock v0 and v3 (libver earliest/latest), user block,
 * fixed and variable-length strings, many attributes (continuation blocks),
 * dense attribute storage, a 100 MB dataset. Each is then truncated and
 * mutated byte by byte: the reader must never crash (run in the ASan build),
 * never read more than a few KB, and a damaged file must never come out
 * clean with its model_config hidden. */
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "ww_config.h"
#include "formats/hdf5/h5read.h"
#include "io/src.h"
#include "util/alloc.h"
#include "weightwall.h"
#if WW_HAVE_HDF5
#include <hdf5.h>
#endif

typedef struct seg {
    size_t off, len;
    const char *bytes;
} seg;

/* h5py 3.7.0 (HDF5 1.10.8), libver='earliest': model_config (str,
 * variable length), training_config (bytes, fixed), keras_version (str), backend (bytes). */
static const seg h5py_earliest[] = {
    {0, 19,
     "\211\110\104\106\015\012\032\012\000\000\000\000\000\010\010\000\004\000\020"
    },
    {32, 24,
     "\377\377\377\377\377\377\377\377\000\030\000\000\000\000\000\000\377\377\377\377\377\377"
     "\377\377"
    },
    {64, 96,
     "\140\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000\210\000\000\000\000\000"
     "\000\000\250\002\000\000\000\000\000\000\001\000\006\000\001\000\000\000\030\000\000\000"
     "\000\000\000\000\020\000\020\000\000\000\000\000\040\003\000\000\000\000\000\000\120\001"
     "\000\000\000\000\000\000\124\122\105\105\000\000\000\000\377\377\377\377\377\377\377\377"
     "\377\377\377\377\377\377\377\377"
    },
    {680, 26,
     "\110\105\101\120\000\000\000\000\130\000\000\000\000\000\000\000\010\000\000\000\000\000"
     "\000\000\310\002"
    },
    {720, 9,
     "\001\000\000\000\000\000\000\000\120"
    },
    {800, 333,
     "\021\000\020\000\000\000\000\000\210\000\000\000\000\000\000\000\250\002\000\000\000\000"
     "\000\000\014\000\110\000\000\000\000\000\001\000\015\000\024\000\010\000\155\157\144\145"
     "\154\137\143\157\156\146\151\147\000\000\000\000\031\001\001\000\020\000\000\000\020\000"
     "\000\000\001\000\000\000\000\000\010\000\000\000\000\000\001\000\000\000\000\000\000\000"
     "\103\000\000\000\000\010\000\000\000\000\000\000\001\000\000\000\014\000\110\000\000\000"
     "\000\000\001\000\020\000\024\000\010\000\164\162\141\151\156\151\156\147\137\143\157\156"
     "\146\151\147\000\031\001\000\000\020\000\000\000\020\000\000\000\001\000\000\000\000\000"
     "\010\000\000\000\000\000\001\000\000\000\000\000\000\000\016\000\000\000\000\010\000\000"
     "\000\000\000\000\002\000\000\000\014\000\110\000\000\000\000\000\001\000\016\000\024\000"
     "\010\000\153\145\162\141\163\137\166\145\162\163\151\157\156\000\000\000\031\001\001\000"
     "\020\000\000\000\020\000\000\000\001\000\000\000\000\000\010\000\000\000\000\000\001\000"
     "\000\000\000\000\000\000\006\000\000\000\000\010\000\000\000\000\000\000\003\000\000\000"
     "\014\000\100\000\000\000\000\000\001\000\010\000\024\000\010\000\142\141\143\153\145\156"
     "\144\000\031\001\000\000\020\000\000\000\020\000\000\000\001\000\000\000\000\000\010\000"
     "\000\000\000\000\001\000\000\000\000\000\000\000\012\000\000\000\000\010\000\000\000\000"
     "\000\000\004"
    },
    {2048, 186,
     "\107\103\117\114\001\000\000\000\000\020\000\000\000\000\000\000\001\000\000\000\000\000"
     "\000\000\103\000\000\000\000\000\000\000\173\042\143\154\141\163\163\137\156\141\155\145"
     "\042\072\040\042\123\145\161\165\145\156\164\151\141\154\042\054\040\042\143\157\156\146"
     "\151\147\042\072\040\173\042\156\141\155\145\042\072\040\042\163\042\054\040\042\154\141"
     "\171\145\162\163\042\072\040\133\135\175\175\000\000\000\000\000\002\000\000\000\000\000"
     "\000\000\016\000\000\000\000\000\000\000\173\042\154\157\163\163\042\072\042\155\163\145"
     "\042\175\000\000\003\000\000\000\000\000\000\000\006\000\000\000\000\000\000\000\062\056"
     "\061\063\056\061\000\000\004\000\000\000\000\000\000\000\012\000\000\000\000\000\000\000"
     "\164\145\156\163\157\162\146\154\157\167"
    },
    {2248, 2,
     "\100\017"
    },
};
#define H5PY_EARLIEST_SIZE 6144
/* h5py 3.7.0 (HDF5 1.10.8), libver='latest': model_config (str,
 * variable length), training_config (bytes, fixed), keras_version (str), backend (bytes). */
static const seg h5py_latest[] = {
    {0, 11,
     "\211\110\104\106\015\012\032\012\003\010\010"
    },
    {20, 369,
     "\377\377\377\377\377\377\377\377\000\030\000\000\000\000\000\000\060\000\000\000\000\000"
     "\000\000\101\211\211\007\117\110\104\122\002\041\333\205\011\153\333\205\011\153\333\205"
     "\011\153\333\205\011\153\071\001\002\022\000\000\000\000\377\377\377\377\377\377\377\377"
     "\377\377\377\377\377\377\377\377\012\002\000\001\000\000\025\022\000\004\000\000\377\377"
     "\377\377\377\377\377\377\377\377\377\377\377\377\377\377\014\076\000\000\003\000\015\000"
     "\024\000\004\000\000\155\157\144\145\154\137\143\157\156\146\151\147\000\031\001\001\000"
     "\020\000\000\000\020\000\000\000\001\000\000\000\000\000\010\000\002\000\000\000\103\000"
     "\000\000\000\010\000\000\000\000\000\000\001\000\000\000\014\101\000\000\003\000\020\000"
     "\024\000\004\000\000\164\162\141\151\156\151\156\147\137\143\157\156\146\151\147\000\031"
     "\001\000\000\020\000\000\000\020\000\000\000\001\000\000\000\000\000\010\000\002\000\000"
     "\000\016\000\000\000\000\010\000\000\000\000\000\000\002\000\000\000\014\077\000\000\003"
     "\000\016\000\024\000\004\000\000\153\145\162\141\163\137\166\145\162\163\151\157\156\000"
     "\031\001\001\000\020\000\000\000\020\000\000\000\001\000\000\000\000\000\010\000\002\000"
     "\000\000\006\000\000\000\000\010\000\000\000\000\000\000\003\000\000\000\014\071\000\000"
     "\003\000\010\000\024\000\004\000\000\142\141\143\153\145\156\144\000\031\001\000\000\020"
     "\000\000\000\020\000\000\000\001\000\000\000\000\000\010\000\002\000\000\000\012\000\000"
     "\000\000\010\000\000\000\000\000\000\004\000\000\000\320\221\054\073"
    },
    {2048, 186,
     "\107\103\117\114\001\000\000\000\000\020\000\000\000\000\000\000\001\000\000\000\000\000"
     "\000\000\103\000\000\000\000\000\000\000\173\042\143\154\141\163\163\137\156\141\155\145"
     "\042\072\040\042\123\145\161\165\145\156\164\151\141\154\042\054\040\042\143\157\156\146"
     "\151\147\042\072\040\173\042\156\141\155\145\042\072\040\042\163\042\054\040\042\154\141"
     "\171\145\162\163\042\072\040\133\135\175\175\000\000\000\000\000\002\000\000\000\000\000"
     "\000\000\016\000\000\000\000\000\000\000\173\042\154\157\163\163\042\072\042\155\163\145"
     "\042\175\000\000\003\000\000\000\000\000\000\000\006\000\000\000\000\000\000\000\062\056"
     "\061\063\056\061\000\000\004\000\000\000\000\000\000\000\012\000\000\000\000\000\000\000"
     "\164\145\156\163\157\162\146\154\157\167"
    },
    {2248, 2,
     "\100\017"
    },
};
#define H5PY_LATEST_SIZE 6144

/* base64(marshal(code of "lambda x: __import__('os').system('id') or x")), 3.11 */
#define LAMBDA_OS                                                                             \
    "4wEAAAAAAAAAAAAAAAMAAAADAAAA80oAAACXAHQBAAAAAAAAAAAAAGQBpgEAAKsBAAAAAAAAAACgAQAAAAAAAAA" \
    "AAAAAAAAAAAAAAAAAZAKmAQAAqwEAAAAAAAAAAHABfABTACkDTtoCb3PaAmlkKQLaCl9faW1wb3J0X1/aBnN5c3R" \
    "lbSkB2gF4cwEAAAAg+gg8bGFtYmRhPvoIPGxhbWJkYT5yCAAAAAEAAABzIQAAAIAAjSqQVNEKGtQKGtcKIdIKIaAk" \
    "0Qon1Aon0AosqDGAAPMAAAAA"
#define LAMBDA_JSON                                                                           \
    "{\"class_name\":\"Sequential\",\"config\":{\"name\":\"s\",\"layers\":[{\"class_name\":"    \
    "\"Lambda\",\"config\":{\"name\":\"l\",\"function\":[\"" LAMBDA_OS "\",null,null],"         \
    "\"function_type\":\"lambda\"}}]}}"
/* json.dumps() of the config the h5py files hold */
#define H5PY_JSON "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": []}}"
#define BENIGN_JSON "{\"class_name\":\"Sequential\",\"config\":{\"name\":\"s\",\"layers\":[]}}"

enum { A_MODEL, A_TRAINING, A_VERSION, A_COUNT };

static ww_engine *eng;

static uint8_t *from_segs(const seg *s, size_t n, size_t size)
{
    uint8_t *img = calloc(1, size);
    for (size_t i = 0; img && i < n; i++)
        memcpy(img + s[i].off, s[i].bytes, s[i].len);
    return img;
}

/* Run the reader on an image; returns its status, fills attrs (texts freed
 * by the caller via free_attrs) and the bytes it viewed. */
static ww_status read_attrs(const uint8_t *img, size_t len, wwi_h5_attr *a, wwi_h5_info *info,
                            uint64_t *viewed)
{
    wwi_src *src = NULL;
    a[A_MODEL] = (wwi_h5_attr){.name = "model_config"};
    a[A_TRAINING] = (wwi_h5_attr){.name = "training_config"};
    a[A_VERSION] = (wwi_h5_attr){.name = "keras_version"};
    if (wwi_src_memory(img, len, &src) != WW_OK)
        return WW_E_NOMEM;
    ww_status st = wwi_h5_read_root_attrs(src, a, A_COUNT, 1u << 20, 1u << 20, info);
    if (viewed)
        *viewed = wwi_src_bytes_read(src);
    wwi_src_free(src);
    return st;
}

static void free_attrs(wwi_h5_attr *a)
{
    for (size_t i = 0; i < A_COUNT; i++)
        WW_FREE_NULL(a[i].text);
}

static bool text_is(const wwi_h5_attr *a, const char *s)
{
    return a->present && a->st == WW_OK && a->text && a->len == strlen(s) &&
           memcmp(a->text, s, a->len) == 0;
}

/* Whole-scan verdict and format ("" on failure). */
static ww_verdict scan(const uint8_t *img, size_t len, char *fmt, size_t fmtlen)
{
    ww_result *r = NULL;
    ww_verdict v = WW_VERDICT_ERROR;
    fmt[0] = '\0';
    if (ww_scan_memory(eng, img, len, "t.h5", &r) != WW_OK || !r)
        return v;
    v = ww_result_verdict(r);
    snprintf(fmt, fmtlen, "%s", ww_result_format(r));
    ww_result_free(r);
    return v;
}

static void test_h5py_files(void)
{
    const struct {
        const seg *s;
        size_t n, size;
        unsigned sb, oh;
    } files[] = {
        {h5py_earliest, sizeof h5py_earliest / sizeof h5py_earliest[0], H5PY_EARLIEST_SIZE, 0, 1},
        {h5py_latest, sizeof h5py_latest / sizeof h5py_latest[0], H5PY_LATEST_SIZE, 3, 2},
    };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        uint8_t *img = from_segs(files[f].s, files[f].n, files[f].size);
        wwi_h5_attr a[A_COUNT];
        wwi_h5_info info;
        CHECK(img != NULL);
        if (!img)
            continue;
        CHECK(read_attrs(img, files[f].size, a, &info, NULL) == WW_OK);
        CHECK(info.sb_version == files[f].sb && info.oh_version == files[f].oh);
        CHECK(info.n_attrs == 4);
        CHECK(text_is(&a[A_MODEL], H5PY_JSON));
        CHECK(text_is(&a[A_TRAINING], "{\"loss\":\"mse\"}"));
        CHECK(text_is(&a[A_VERSION], "2.13.1"));
        free_attrs(a);
        char fmt[32];
        CHECK(scan(img, files[f].size, fmt, sizeof fmt) == WW_VERDICT_CLEAN);
        CHECK_STR(fmt, "keras_h5");
        /* Every truncation is caught (the superblock's end-of-file address). */
        for (size_t cut = 0; cut < files[f].size; cut += cut < 64 ? 1 : 61)
            CHECK(scan(img, cut, fmt, sizeof fmt) != WW_VERDICT_CLEAN);
        free(img);
    }
}

/* Mutate every byte of a file (four values per byte) and check the outcomes:
 * no crash; and when the file holds a Lambda model_config, a clean verdict
 * only when the mutation took away what makes the attribute a model_config
 * at all (its message type or its name: Keras then refuses the file too). */
static void mutate_all(const uint8_t *orig, size_t len, bool lambda, const char *what)
{
    uint8_t *img = malloc(len);
    static const uint8_t vals[] = {0x00, 0xff, 0x01, 0x80};
    size_t clean = 0, total = 0, err = 0;
    wwi_h5_attr a[A_COUNT];
    wwi_h5_info info;
    if (!img)
        return;
    for (size_t p = 0; p < len; p++) {
        for (size_t k = 0; k < sizeof vals / sizeof vals[0] + 1; k++) {
            memcpy(img, orig, len);
            uint8_t v = k < sizeof vals ? vals[k] : (uint8_t)(orig[p] ^ 0x04);
            if (v == orig[p])
                continue;
            img[p] = v;
            total++;
            ww_status st = read_attrs(img, len, a, &info, NULL);
            bool model = a[A_MODEL].present;
            free_attrs(a);
            char fmt[32];
            ww_verdict vd = scan(img, len, fmt, sizeof fmt);
            err += st != WW_OK;
            if (vd != WW_VERDICT_CLEAN || !lambda)
                continue;
            clean++;
            /* Clean is right only when no model_config is visible at all. */
            CHECK(!model && st == WW_OK && strcmp(fmt, "hdf5") == 0);
            if (model)
                fprintf(stderr, "%s: mutation at %zu -> %02x is clean with model_config\n", what,
                        p, v);
        }
    }
    printf("%s: %zu mutants, %zu reader errors, %zu clean (model_config no longer there)\n",
           what, total, err, clean);
    free(img);
}

static void test_h5py_mutations(void)
{
    /* Benign configs: only "no crash" can be asserted (a mutated benign
     * config may well stay clean). Lambda files are mutated in test_generated. */
    uint8_t *e = from_segs(h5py_earliest, sizeof h5py_earliest / sizeof h5py_earliest[0],
                           H5PY_EARLIEST_SIZE);
    uint8_t *l = from_segs(h5py_latest, sizeof h5py_latest / sizeof h5py_latest[0],
                           H5PY_LATEST_SIZE);
    if (e)
        mutate_all(e, H5PY_EARLIEST_SIZE, false, "h5py earliest");
    if (l)
        mutate_all(l, H5PY_LATEST_SIZE, false, "h5py latest");
    free(e);
    free(l);
}

#if WW_HAVE_HDF5
typedef struct gen {
    bool latest;          /* libver latest: superblock v3, OHDR headers */
    unsigned userblock;   /* bytes before the superblock */
    int model;            /* 0: none, 1: fixed-length string, 2: variable length */
    const char *json;     /* model_config */
    unsigned extra;       /* other attributes, written first */
    size_t extra_size;    /* bytes in each */
    bool dense;           /* force dense attribute storage */
    bool compact_many;    /* raise the compact limit so `extra` stay in the header */
    bool track_order;     /* attribute creation order tracked and indexed */
    uint64_t dataset;     /* bytes of a uint8 dataset written before the attributes */
} gen;

static void put_attr(hid_t loc, const char *name, const char *text, bool vlen)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (vlen) {
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, H5T_CSET_UTF8);
    } else {
        H5Tset_size(t, strlen(text));
        H5Tset_strpad(t, H5T_STR_NULLPAD);
    }
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (vlen)
        H5Awrite(a, t, &text);
    else
        H5Awrite(a, t, text);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

static uint8_t *make(const gen *g, size_t *len)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_fapl_core(fapl, 1 << 20, 0);
    H5Pset_libver_bounds(fapl, g->latest ? H5F_LIBVER_LATEST : H5F_LIBVER_EARLIEST,
                         H5F_LIBVER_LATEST);
    if (g->userblock)
        H5Pset_userblock(fcpl, g->userblock);
    if (g->dense)
        H5Pset_attr_phase_change(fcpl, 0, 0);
    if (g->compact_many)
        H5Pset_attr_phase_change(fcpl, 1000, 900);
    if (g->track_order)
        H5Pset_attr_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    /* The core driver's image leaves the user block out: write those to disk. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/test-h5read-%d.h5", (int)getpid());
    if (g->userblock)
        H5Pset_fapl_sec2(fapl);
    hid_t f = H5Fcreate(g->userblock ? path : "test-h5read-in-memory.h5", H5F_ACC_TRUNC, fcpl,
                        fapl);
    if (g->dataset) {
        hsize_t n = g->dataset;
        hid_t sp = H5Screate_simple(1, &n, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
        hid_t d = H5Dcreate2(f, "weights", H5T_NATIVE_UINT8, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        H5Dclose(d);
        H5Pclose(dcpl);
        H5Sclose(sp);
    }
    char *filler = calloc(1, g->extra_size + 1);
    if (filler)
        memset(filler, 'x', g->extra_size);
    for (unsigned i = 0; filler && i < g->extra; i++) {
        char name[32];
        snprintf(name, sizeof name, "attr%03u", i);
        put_attr(f, name, filler, i % 2);
    }
    free(filler);
    if (g->model)
        put_attr(f, "model_config", g->json, g->model == 2);
    put_attr(f, "keras_version", "2.13.1", false);
    H5Fflush(f, H5F_SCOPE_GLOBAL);
    ssize_t n = H5Fget_file_image(f, NULL, 0);
    uint8_t *buf = n > 0 && !g->userblock ? malloc((size_t)n) : NULL;
    if (buf)
        H5Fget_file_image(f, buf, (size_t)n);
    H5Fclose(f);
    H5Pclose(fcpl);
    H5Pclose(fapl);
    if (g->userblock) {
        FILE *fp = fopen(path, "rb");
        buf = fp ? malloc(1 << 20) : NULL;
        n = buf ? (ssize_t)fread(buf, 1, 1 << 20, fp) : 0;
        if (fp)
            fclose(fp);
        remove(path);
    }
    *len = buf ? (size_t)n : 0;
    return buf;
}

/* Build, read, scan; returns the image for further mutation (caller frees). */
static uint8_t *check_gen(const gen *g, ww_status want_st, ww_verdict want_v,
                          const char *want_fmt, size_t *len_out, int line)
{
    size_t len = 0;
    uint8_t *img = make(g, &len);
    wwi_h5_attr a[A_COUNT];
    wwi_h5_info info;
    uint64_t viewed = 0;
    char fmt[32];
    CHECK(img != NULL);
    if (!img)
        return NULL;
    ww_status st = read_attrs(img, len, a, &info, &viewed);
    ww_verdict v = scan(img, len, fmt, sizeof fmt);
    bool ok = st == want_st && v == want_v && strcmp(fmt, want_fmt) == 0;
    if (want_st == WW_OK && g->model)
        ok = ok && text_is(&a[A_MODEL], g->json);
    ok = ok && (want_st != WW_OK || text_is(&a[A_VERSION], "2.13.1"));
    if (!ok)
        fprintf(stderr, "line %d: reader %s (%s), verdict %d, format %s\n", line,
                ww_strerror(st), info.err, (int)v, fmt);
    CHECK(ok);
    /* Only the superblock, the root header (+ continuations) and the heap. */
    CHECK(viewed < 64 * 1024);
    printf("line %d: sb v%u oh v%u, %u attributes, %u header blocks, %llu of %zu bytes viewed\n",
           line, info.sb_version, info.oh_version, info.n_attrs, info.n_blocks,
           (unsigned long long)viewed, len);
    free_attrs(a);
    *len_out = len;
    return img;
}
#define GEN(g, st, v, fmt, lenp) check_gen(g, st, v, fmt, lenp, __LINE__)

static void test_generated(void)
{
    size_t len = 0;
    uint8_t *img;
    const char *fmtk = "keras_h5";

    for (int latest = 0; latest < 2; latest++) {
        for (int model = 1; model <= 2; model++) {
            gen g = {.latest = latest, .model = model, .json = LAMBDA_JSON};
            img = GEN(&g, WW_OK, WW_VERDICT_UNSAFE, fmtk, &len);
            if (img && latest == 0 && model == 2)
                mutate_all(img, len, true, "libhdf5 earliest vlen Lambda");
            if (img && latest == 1 && model == 1)
                mutate_all(img, len, true, "libhdf5 latest fixed Lambda");
            free(img);
        }
        /* No Keras attributes: plain HDF5, clean. */
        gen plain = {.latest = latest, .extra = 3, .extra_size = 10};
        free(GEN(&plain, WW_OK, WW_VERDICT_CLEAN, "hdf5", &len));
        /* User block of 512 / 2048 bytes. */
        gen ub = {.latest = latest, .userblock = latest ? 2048 : 512, .model = 2,
                  .json = BENIGN_JSON};
        free(GEN(&ub, WW_OK, WW_VERDICT_CLEAN, fmtk, &len));
        /* A 100 MB dataset before the attributes: only a few KB are viewed. */
        gen big = {.latest = latest, .model = 2, .json = LAMBDA_JSON, .dataset = 100u << 20};
        free(GEN(&big, WW_OK, WW_VERDICT_UNSAFE, fmtk, &len));
        /* Creation order tracked (an extra field in every v2 message header). */
        gen crt = {.latest = latest, .model = 2, .json = LAMBDA_JSON, .track_order = true,
                   .extra = 5, .extra_size = 50};
        free(GEN(&crt, WW_OK, WW_VERDICT_UNSAFE, fmtk, &len));
    }
    /* Many attributes: continuation blocks (v1 raw, v2 OCHK). */
    gen many1 = {.model = 2, .json = LAMBDA_JSON, .extra = 60, .extra_size = 300,
                 .dataset = 4096};
    img = GEN(&many1, WW_OK, WW_VERDICT_UNSAFE, fmtk, &len);
    free(img);
    gen many2 = {.latest = true, .model = 1, .json = LAMBDA_JSON, .extra = 60,
                 .extra_size = 300, .compact_many = true, .dataset = 4096};
    img = GEN(&many2, WW_OK, WW_VERDICT_UNSAFE, fmtk, &len);
    free(img);
    /* Dense storage (fractal heap): not read, so an error, never clean. */
    gen dense = {.latest = true, .model = 2, .json = LAMBDA_JSON, .dense = true};
    free(GEN(&dense, WW_E_UNSUPPORTED, WW_VERDICT_ERROR, "hdf5", &len));
    gen dense9 = {.latest = true, .model = 2, .json = BENIGN_JSON, .extra = 9, .extra_size = 8};
    free(GEN(&dense9, WW_E_UNSUPPORTED, WW_VERDICT_ERROR, "hdf5", &len));
}

/* A v1 continuation message pointing back at its own block: a cycle. */
static void test_continuation_loop(void)
{
    size_t len = 0;
    gen g = {.model = 2, .json = BENIGN_JSON, .extra = 40, .extra_size = 300, .dataset = 64};
    uint8_t *img = make(&g, &len);
    wwi_h5_attr a[A_COUNT];
    wwi_h5_info info;
    CHECK(img != NULL && len > 200);
    if (!img)
        return;
    /* Superblock v0, 8-byte offsets: root object header address at 64. */
    uint64_t root = 0;
    for (int i = 7; i >= 0; i--)
        root = (root << 8) | img[64 + i];
    /* Walk the v1 header's first chunk for a continuation message (0x10). */
    uint32_t hsize = img[root + 8] | (uint32_t)img[root + 9] << 8 |
                     (uint32_t)img[root + 10] << 16 | (uint32_t)img[root + 11] << 24;
    size_t p = root + 16, end = root + 16 + hsize, cont = 0;
    while (p + 8 <= end && end <= len) {
        unsigned type = img[p] | img[p + 1] << 8, size = img[p + 2] | img[p + 3] << 8;
        if (type == 0x10) {
            cont = p + 8;
            break;
        }
        p += 8 + size;
    }
    CHECK(cont != 0);
    if (cont) {
        uint64_t self = root + 16; /* the chunk that holds this very message */
        for (int i = 0; i < 8; i++)
            img[cont + i] = (uint8_t)(self >> (8 * i));
        ww_status st = read_attrs(img, len, a, &info, NULL);
        CHECK(st == WW_E_FORMAT && strstr(info.err, "loop") != NULL);
        free_attrs(a);
        char fmt[32];
        CHECK(scan(img, len, fmt, sizeof fmt) == WW_VERDICT_ERROR);
    }
    free(img);
}
#endif

int main(void)
{
#if WW_HAVE_HDF5
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
#endif
    if (ww_engine_new(&eng) != WW_OK)
        return 1;
    test_h5py_files();
    test_h5py_mutations();
#if WW_HAVE_HDF5
    test_generated();
    test_continuation_loop();
#endif
    ww_engine_free(eng);
    return CHECK_DONE();
}
