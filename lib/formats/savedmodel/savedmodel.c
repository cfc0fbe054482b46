/* savedmodel: TensorFlow SavedModel (saved_model.pb), frozen GraphDef,
 * keras_metadata.pb and fingerprint.pb. A graph is a program: every op of
 * every graph and library function is listed, and ops that reach files, the
 * network or Python are findings (T-TF-SAVEDMODEL-OPS, table tf_ops.def). */
#include <stdio.h>
#include "formats/format.h"
#include "formats/onnx/onnx.h" /* wwi_onnx_location_risk for asset paths */
#include "formats/savedmodel/savedmodel.h"
#include "util/alloc.h"
#include "util/strutil.h"

typedef struct tf_op {
    const char *name;
    ww_severity sev;
    bool saver_ok;
    const char *reason;
} tf_op;

static const tf_op tf_ops[] = {
#define WW_TF_OP(n, sev, saver, why) {n, sev, saver, why},
#include "formats/savedmodel/tf_ops.def"
#undef WW_TF_OP
};

ww_severity wwi_tf_op_class(const uint8_t *op, size_t n, bool saver, const char **reason)
{
    for (size_t i = 0; i < sizeof tf_ops / sizeof tf_ops[0]; i++) {
        if (strlen(tf_ops[i].name) != n || !wwi_bytes_eq(tf_ops[i].name, op, n))
            continue;
        *reason = tf_ops[i].reason;
        if (saver && tf_ops[i].saver_ok) {
            *reason = "checkpoint I/O inside the SavedModel's own saver";
            return WW_SEV_NONE;
        }
        return tf_ops[i].sev;
    }
    *reason = NULL;
    return WW_SEV_NONE;
}

ww_status wwi_tf_fail(wwi_scan *s, const wwi_cur *c, const char *what)
{
    ww_status st = c->err != WW_OK ? c->err : WW_E_FORMAT;
    if (st == WW_E_LIMIT)
        return wwi_scan_limit(s, "max_json_depth", "protobuf groups nested too deep in %s", what);
    return wwi_scan_error(s, st, c->pos, "TensorFlow %s: %s at offset %zu", what,
                          st == WW_E_TRUNCATED ? "truncated protobuf" : "malformed protobuf",
                          c->pos);
}

/* ---- probe --------------------------------------------------------------- */

static const wwi_pb_shape sm_shape[] = {{TF_SM_SCHEMA_VERSION, WWI_PB_VARINT},
                                        {TF_SM_META_GRAPHS, WWI_PB_LEN}, {0, 0}};
static const wwi_pb_shape mg_shape[] = {
    {1, WWI_PB_LEN}, {2, WWI_PB_LEN}, {3, WWI_PB_LEN}, {4, WWI_PB_LEN},
    {5, WWI_PB_LEN}, {6, WWI_PB_LEN}, {7, WWI_PB_LEN}, {0, 0}};
static const wwi_pb_shape graph_shape[] = {
    {TF_GRAPH_NODE, WWI_PB_LEN},        {TF_GRAPH_LIBRARY, WWI_PB_LEN},
    {TF_GRAPH_VERSION, WWI_PB_VARINT},  {TF_GRAPH_VERSIONS, WWI_PB_LEN},
    {TF_GRAPH_DEBUG_INFO, WWI_PB_LEN},  {0, 0}};
static const wwi_pb_shape node_shape[] = {
    {TF_NODE_NAME, WWI_PB_LEN},     {TF_NODE_OP, WWI_PB_LEN},       {TF_NODE_INPUT, WWI_PB_LEN},
    {TF_NODE_DEVICE, WWI_PB_LEN},   {TF_NODE_ATTR, WWI_PB_LEN},     {TF_NODE_EXP_TYPE, WWI_PB_LEN},
    {TF_NODE_EXP_DEBUG_INFO, WWI_PB_LEN}, {0, 0}};
static const wwi_pb_shape keras_obj_shape[] = {
    {KERAS_OBJ_NODE_ID, WWI_PB_VARINT}, {KERAS_OBJ_NODE_PATH, WWI_PB_LEN},
    {KERAS_OBJ_IDENTIFIER, WWI_PB_LEN}, {KERAS_OBJ_METADATA, WWI_PB_LEN},
    {KERAS_OBJ_VERSION, WWI_PB_LEN},    {0, 0}};
static const wwi_pb_shape fp_shape[] = {
    {1, WWI_PB_VARINT}, {2, WWI_PB_VARINT}, {3, WWI_PB_VARINT}, {4, WWI_PB_VARINT},
    {5, WWI_PB_VARINT}, {TF_FP_VERSION, WWI_PB_LEN}, {0, 0}};

/* First field of buf (possibly cut off by the end of the head). */
static bool first_field(const uint8_t *buf, size_t n, wwi_pb_field *f, const uint8_t **payload,
                        size_t *plen)
{
    wwi_cur c;
    wwi_cur_init(&c, buf, n);
    bool ok = wwi_pb_next(&c, f, 0);
    if (!ok && !(c.err == WW_E_TRUNCATED && f->num != 0 && f->wt == WWI_PB_LEN))
        return false;
    *payload = buf + (f->wt == WWI_PB_LEN ? f->data_off : 0);
    *plen = f->wt == WWI_PB_LEN ? (f->data_off <= n ? n - f->data_off : 0) : 0;
    if (*plen > f->len)
        *plen = f->len;
    return true;
}

static bool looks_like_graph(const uint8_t *p, size_t n)
{
    wwi_pb_field f;
    const uint8_t *q;
    size_t ql;
    if (wwi_pb_match(p, n, true, graph_shape) < 1 || !first_field(p, n, &f, &q, &ql))
        return false;
    if (f.num != TF_GRAPH_NODE)
        return f.num == TF_GRAPH_LIBRARY || f.num == TF_GRAPH_VERSIONS;
    /* A NodeDef begins with its name, then its op. */
    wwi_pb_field g;
    const uint8_t *r;
    size_t rl;
    return wwi_pb_match(q, ql, true, node_shape) >= 1 && first_field(q, ql, &g, &r, &rl) &&
           g.num == TF_NODE_NAME;
}

tf_kind wwi_tf_classify(const uint8_t *head, size_t n, int *confidence)
{
    wwi_pb_field f;
    const uint8_t *p;
    size_t pl;
    *confidence = 0;
    if (n < 2 || !first_field(head, n, &f, &p, &pl))
        return TF_KIND_NONE;
    /* SavedModel: [schema_version] then MetaGraphDefs. */
    if (wwi_pb_match(head, n, true, sm_shape) >= 1) {
        wwi_cur c;
        wwi_pb_field g = f;
        wwi_cur_init(&c, head, n);
        if (f.num == TF_SM_SCHEMA_VERSION) {
            (void)wwi_pb_next(&c, &g, 0);
            if (f.v > 16 || !first_field(head + c.pos, n - c.pos, &g, &p, &pl))
                goto not_sm;
        }
        if (g.num == TF_SM_META_GRAPHS && pl > 0 && wwi_pb_match(p, pl, true, mg_shape) >= 1) {
            wwi_pb_field m;
            const uint8_t *q;
            size_t ql;
            if (first_field(p, pl, &m, &q, &ql) &&
                (m.num != TF_MG_GRAPH_DEF || looks_like_graph(q, ql))) {
                *confidence = 70;
                return TF_KIND_SAVEDMODEL;
            }
        }
    }
not_sm:
    if (f.num == TF_GRAPH_NODE && looks_like_graph(head, n)) {
        *confidence = 50;
        return TF_KIND_GRAPHDEF;
    }
    if (f.num == KERAS_META_NODES && f.wt == WWI_PB_LEN && pl > 0 &&
        wwi_pb_match(p, pl, true, keras_obj_shape) >= 1 && memmem(head, n, "_tf_keras", 9)) {
        *confidence = 60;
        return TF_KIND_KERAS_META;
    }
    if (f.num == 1 && f.wt == WWI_PB_VARINT && wwi_pb_match(head, n, true, fp_shape) >= 3) {
        *confidence = 40;
        return TF_KIND_FINGERPRINT;
    }
    return TF_KIND_NONE;
}

static int probe(const uint8_t *head, size_t n, uint64_t size)
{
    int conf;
    (void)size;
    return wwi_tf_classify(head, n, &conf) != TF_KIND_NONE ? conf : 0;
}

/* ---- graph walker -------------------------------------------------------- */

/* Name of a tensor or op reference ("^name", "name:0") without decorations. */
static void ref_name(const uint8_t *p, size_t n, const uint8_t **out, size_t *outlen)
{
    if (n > 0 && p[0] == '^')
        p++, n--;
    const uint8_t *colon = memchr(p, ':', n);
    *out = p;
    *outlen = colon ? (size_t)(colon - p) : n;
}

static bool bytes_is(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    return a && b && al == bl && wwi_bytes_eq(a, b, al);
}

static bool has_prefix(const uint8_t *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && wwi_bytes_eq(p, lit, l);
}

#define TF_SAVE_FN "__inference__traced_save"
#define TF_RESTORE_FN "__inference__traced_restore"

/* A NameAttrList naming a function: a call of the saver's functions from
 * anywhere but the saver itself is flagged. The called functions are walked
 * anyway (every library function is), so only the name matters here. */
static ww_status func_ref(tf_ctx *x, wwi_cur *c, const char *where, bool saver)
{
    wwi_pb_field f;
    const uint8_t *name = NULL;
    size_t nl = 0, off = c->pos;
    while (wwi_pb_next(c, &f, x->max_depth))
        if (f.num == TF_NAMEATTRLIST_NAME && f.wt == WWI_PB_LEN)
            name = wwi_pb_data(c, &f), nl = f.len, off = f.off;
    if (c->err != WW_OK)
        return wwi_tf_fail(x->s, c, where);
    if (!saver && name &&
        (has_prefix(name, nl, TF_SAVE_FN) || has_prefix(name, nl, TF_RESTORE_FN))) {
        char shown[256];
        wwi_printable(name, nl, shown, sizeof shown);
        wwi_finding(x->s, WW_SEV_HIGH, "tf_call", "tensorflow", shown, off,
                    "%s calls checkpoint function '%s' outside the SavedModel's saver "
                    "(its SaveV2/RestoreV2 then touch files)",
                    where, shown);
    }
    return WW_OK;
}

/* One AttrValue: function references (func, list.func) and PrintV2's
 * output_stream. */
static ww_status attr_value(tf_ctx *x, wwi_cur *c, const uint8_t *key, size_t klen,
                            const char *where, bool saver)
{
    wwi_pb_field f, g;
    ww_status st = WW_OK;
    while (st == WW_OK && wwi_pb_next(c, &f, x->max_depth)) {
        if (f.wt != WWI_PB_LEN)
            continue;
        wwi_cur sub;
        wwi_pb_sub(c, &f, &sub);
        if (f.num == TF_ATTR_S && klen == 13 && wwi_bytes_eq(key, "output_stream", 13) &&
            has_prefix(wwi_pb_data(c, &f), f.len, "file://")) {
            char shown[256];
            wwi_printable(wwi_pb_data(c, &f), f.len, shown, sizeof shown);
            wwi_finding(x->s, WW_SEV_HIGH, "tf_op", "tensorflow", "PrintV2", f.off,
                        "%s prints tensors to file '%s'", where, shown);
        } else if (f.num == TF_ATTR_FUNC) {
            st = func_ref(x, &sub, where, saver);
        } else if (f.num == TF_ATTR_LIST) {
            while (st == WW_OK && wwi_pb_next(&sub, &g, x->max_depth)) {
                if (g.num != TF_LIST_FUNC || g.wt != WWI_PB_LEN)
                    continue;
                wwi_cur fn;
                wwi_pb_sub(&sub, &g, &fn);
                st = func_ref(x, &fn, where, saver);
            }
            if (st == WW_OK && sub.err != WW_OK)
                st = wwi_tf_fail(x->s, &sub, where);
        }
    }
    if (st == WW_OK && c->err != WW_OK)
        st = wwi_tf_fail(x->s, c, where);
    return st;
}

static ww_status walk_node(tf_ctx *x, wwi_cur *c, const char *fn_name, bool fn_saver)
{
    wwi_pb_field f;
    const uint8_t *name = (const uint8_t *)"", *op = NULL;
    size_t nl = 0, ol = 0, start = c->pos;
    wwi_cur pre = *c;
    while (wwi_pb_next(&pre, &f, x->max_depth)) {
        if (f.num != TF_NODE_NAME && f.num != TF_NODE_OP)
            continue;
        if (f.wt != WWI_PB_LEN)
            return wwi_scan_error(x->s, WW_E_FORMAT, f.off,
                                  "TensorFlow NodeDef: field %u is not a string", f.num);
        if (f.num == TF_NODE_NAME)
            name = wwi_pb_data(&pre, &f), nl = f.len;
        else
            op = wwi_pb_data(&pre, &f), ol = f.len;
    }
    if (pre.err != WW_OK)
        return wwi_tf_fail(x->s, &pre, "NodeDef");

    char pname[160], pop[128], where[400];
    wwi_printable(name, nl, pname, sizeof pname);
    wwi_printable(op ? op : (const uint8_t *)"", ol, pop, sizeof pop);
    if (fn_name)
        snprintf(where, sizeof where, "node '%s' of function '%s'", pname, fn_name);
    else
        snprintf(where, sizeof where, "node '%s' of the graph", pname);
    if (!op || ol == 0)
        return wwi_scan_error(x->s, WW_E_FORMAT, start, "TensorFlow %s has no op", where);

    /* In the saver: a TF2 saver function, or (TF1) the saver's name scope. */
    bool saver = fn_saver;
    if (!fn_name && x->scope_len > 0 && nl > x->scope_len &&
        wwi_bytes_eq(name, x->saver_scope, x->scope_len) && name[x->scope_len] == '/')
        saver = true;
    bool saver_node = !fn_name && (bytes_is(name, nl, x->save_node, x->save_len) ||
                                   bytes_is(name, nl, x->restore_node, x->restore_len));

    const char *reason;
    ww_severity sev = wwi_tf_op_class(op, ol, saver, &reason);
    if (sev >= WW_SEV_MEDIUM)
        wwi_finding(x->s, sev, "tf_op", "tensorflow", pop, start, "%s runs op %s: %s", where,
                    pop, reason);
    ww_status st = wwi_optally_add(&x->ops, op, ol, where, start,
                                   sev >= WW_SEV_MEDIUM ? WW_SEV_NONE : sev, reason);
    if (st != WW_OK)
        return wwi_scan_error(x->s, st, start, "TensorFlow: out of memory tallying ops");

    while (wwi_pb_next(c, &f, x->max_depth)) {
        if (f.num != TF_NODE_ATTR)
            continue;
        if (f.wt != WWI_PB_LEN)
            return wwi_scan_error(x->s, WW_E_FORMAT, f.off, "TensorFlow %s: bad attr", where);
        /* map entry: key (1), AttrValue (2) */
        wwi_cur e, v = {0};
        wwi_pb_field g;
        const uint8_t *key = (const uint8_t *)"";
        size_t kl = 0;
        bool has_v = false;
        wwi_pb_sub(c, &f, &e);
        while (wwi_pb_next(&e, &g, x->max_depth)) {
            if (g.wt != WWI_PB_LEN)
                continue;
            if (g.num == TF_MAP_KEY)
                key = wwi_pb_data(&e, &g), kl = g.len;
            else if (g.num == TF_MAP_VALUE)
                wwi_pb_sub(&e, &g, &v), has_v = true;
        }
        if (e.err != WW_OK)
            return wwi_tf_fail(x->s, &e, where);
        if (has_v) {
            st = attr_value(x, &v, key, kl, where, saver || saver_node);
            if (st != WW_OK)
                return st;
        }
    }
    return c->err != WW_OK ? wwi_tf_fail(x->s, c, where) : WW_OK;
}

static ww_status walk_function(tf_ctx *x, wwi_cur *c)
{
    wwi_pb_field f;
    char fname[200] = "";
    bool saver = false;
    wwi_cur pre = *c;
    while (wwi_pb_next(&pre, &f, x->max_depth)) {
        if (f.num != TF_FUNC_SIGNATURE || f.wt != WWI_PB_LEN)
            continue;
        wwi_cur sig;
        wwi_pb_field g;
        wwi_pb_sub(&pre, &f, &sig);
        while (wwi_pb_next(&sig, &g, x->max_depth))
            if (g.num == TF_OPDEF_NAME && g.wt == WWI_PB_LEN) {
                wwi_printable(wwi_pb_data(&sig, &g), g.len, fname, sizeof fname);
                saver = has_prefix(wwi_pb_data(&sig, &g), g.len, TF_SAVE_FN) ||
                        has_prefix(wwi_pb_data(&sig, &g), g.len, TF_RESTORE_FN);
            }
        if (sig.err != WW_OK)
            return wwi_tf_fail(x->s, &sig, "FunctionDef signature");
    }
    if (pre.err != WW_OK)
        return wwi_tf_fail(x->s, &pre, "FunctionDef");
    ww_status st = WW_OK;
    while (st == WW_OK && wwi_pb_next(c, &f, x->max_depth)) {
        if (f.num != TF_FUNC_NODE_DEF)
            continue;
        if (f.wt != WWI_PB_LEN)
            return wwi_scan_error(x->s, WW_E_FORMAT, f.off, "TensorFlow function '%s': bad "
                                  "node_def", fname);
        wwi_cur sub;
        wwi_pb_sub(c, &f, &sub);
        st = wwi_scan_check_time(x->s);
        if (st == WW_OK)
            st = walk_node(x, &sub, fname, saver);
    }
    if (st == WW_OK && c->err != WW_OK)
        st = wwi_tf_fail(x->s, c, "FunctionDef");
    return st;
}

static ww_status walk_graph(tf_ctx *x, wwi_cur *c)
{
    wwi_pb_field f;
    ww_status st = WW_OK;
    while (st == WW_OK && wwi_pb_next(c, &f, x->max_depth)) {
        if (f.num != TF_GRAPH_NODE && f.num != TF_GRAPH_LIBRARY)
            continue;
        if (f.wt != WWI_PB_LEN)
            return wwi_scan_error(x->s, WW_E_FORMAT, f.off, "TensorFlow GraphDef: field %u "
                                  "is not a message", f.num);
        wwi_cur sub;
        wwi_pb_sub(c, &f, &sub);
        st = wwi_scan_check_time(x->s);
        if (st != WW_OK)
            break;
        if (f.num == TF_GRAPH_NODE) {
            st = walk_node(x, &sub, NULL, false);
            continue;
        }
        wwi_pb_field g;
        while (st == WW_OK && wwi_pb_next(&sub, &g, x->max_depth)) {
            if (g.num != TF_LIB_FUNCTION)
                continue; /* gradients name functions; they hold no ops */
            if (g.wt != WWI_PB_LEN)
                return wwi_scan_error(x->s, WW_E_FORMAT, g.off, "TensorFlow library: bad "
                                      "function");
            wwi_cur fc;
            wwi_pb_sub(&sub, &g, &fc);
            st = walk_function(x, &fc);
        }
        if (st == WW_OK && sub.err != WW_OK)
            st = wwi_tf_fail(x->s, &sub, "FunctionDefLibrary");
    }
    if (st == WW_OK && c->err != WW_OK)
        st = wwi_tf_fail(x->s, c, "GraphDef");
    return st;
}

/* saver_def and asset files of one MetaGraphDef, before its graph. */
static ww_status meta_prepass(tf_ctx *x, const wwi_cur *mg)
{
    wwi_cur c = *mg;
    wwi_pb_field f, g;
    x->save_node = x->restore_node = x->saver_scope = NULL;
    x->save_len = x->restore_len = x->scope_len = 0;
    while (wwi_pb_next(&c, &f, x->max_depth)) {
        if ((f.num != TF_MG_SAVER_DEF && f.num != TF_MG_ASSET_FILE_DEF) || f.wt != WWI_PB_LEN)
            continue;
        wwi_cur sub;
        wwi_pb_sub(&c, &f, &sub);
        while (wwi_pb_next(&sub, &g, x->max_depth)) {
            if (g.wt != WWI_PB_LEN)
                continue;
            const uint8_t *p = wwi_pb_data(&sub, &g);
            if (f.num == TF_MG_ASSET_FILE_DEF && g.num == TF_ASSET_FILENAME) {
                char shown[256];
                const char *risk = wwi_onnx_location_risk(p, g.len);
                wwi_printable(p, g.len, shown, sizeof shown);
                if (risk)
                    wwi_finding(x->s, WW_SEV_HIGH, "asset", "tensorflow", shown, g.off,
                                "asset file '%s' is outside assets/: %s", shown, risk);
            } else if (f.num == TF_MG_SAVER_DEF && g.num == TF_SAVER_SAVE_TENSOR_NAME) {
                ref_name(p, g.len, &x->save_node, &x->save_len);
            } else if (f.num == TF_MG_SAVER_DEF && g.num == TF_SAVER_RESTORE_OP_NAME) {
                ref_name(p, g.len, &x->restore_node, &x->restore_len);
                /* TF1 savers live in one name scope ("save/restore_all"). */
                const uint8_t *slash = NULL;
                for (size_t i = 0; i < x->restore_len; i++)
                    if (x->restore_node[i] == '/')
                        slash = x->restore_node + i;
                x->saver_scope = x->restore_node;
                x->scope_len = slash ? (size_t)(slash - x->restore_node) : 0;
            }
        }
        if (sub.err != WW_OK)
            return wwi_tf_fail(x->s, &sub, "MetaGraphDef");
    }
    return c.err != WW_OK ? wwi_tf_fail(x->s, &c, "MetaGraphDef") : WW_OK;
}

static ww_status walk_saved_model(tf_ctx *x, wwi_cur *c)
{
    wwi_pb_field f, g;
    ww_status st = WW_OK;
    unsigned metas = 0;
    while (st == WW_OK && wwi_pb_next(c, &f, x->max_depth)) {
        if (f.num != TF_SM_META_GRAPHS)
            continue;
        if (f.wt != WWI_PB_LEN)
            return wwi_scan_error(x->s, WW_E_FORMAT, f.off, "SavedModel: bad meta_graphs");
        metas++;
        wwi_cur mg;
        wwi_pb_sub(c, &f, &mg);
        st = meta_prepass(x, &mg);
        while (st == WW_OK && wwi_pb_next(&mg, &g, x->max_depth)) {
            if (g.num != TF_MG_GRAPH_DEF)
                continue;
            if (g.wt != WWI_PB_LEN)
                return wwi_scan_error(x->s, WW_E_FORMAT, g.off, "SavedModel: bad graph_def");
            wwi_cur gc;
            wwi_pb_sub(&mg, &g, &gc);
            st = walk_graph(x, &gc);
        }
        if (st == WW_OK && mg.err != WW_OK)
            st = wwi_tf_fail(x->s, &mg, "MetaGraphDef");
    }
    if (st == WW_OK && c->err != WW_OK)
        st = wwi_tf_fail(x->s, c, "SavedModel");
    if (st == WW_OK && metas == 0)
        st = wwi_scan_error(x->s, WW_E_FORMAT, 0, "SavedModel without a MetaGraphDef");
    return st;
}

static ww_status walk_fingerprint(tf_ctx *x, wwi_cur *c)
{
    wwi_pb_field f;
    while (wwi_pb_next(c, &f, x->max_depth))
        ;
    if (c->err != WW_OK)
        return wwi_tf_fail(x->s, c, "fingerprint");
    wwi_finding(x->s, WW_SEV_NONE, "format", "tensorflow", "fingerprint", 0,
                "SavedModel fingerprint.pb (hashes only)");
    return WW_OK;
}

static ww_status scan(wwi_scan *s, wwi_src *in)
{
    ww_status rc = WW_OK;
    const uint8_t *data = NULL;
    tf_ctx x = {0};
    x.s = s;
    x.max_depth = wwi_scan_limits(s)->max_json_depth;
    uint64_t size = wwi_src_size(in);
    if (size > (2ull << 30))
        return wwi_scan_error(s, WW_E_FORMAT, 0,
                              "TensorFlow protobuf larger than the 2 GiB protobuf limit");
    rc = wwi_src_view_all(in, 2ull << 30, &data);
    if (rc != WW_OK)
        return wwi_scan_error(s, rc, 0, "TensorFlow: cannot read the file: %s", ww_strerror(rc));
    int conf;
    size_t hn = size < WWI_PROBE_BYTES ? (size_t)size : WWI_PROBE_BYTES;
    tf_kind kind = wwi_tf_classify(data, hn, &conf);
    wwi_cur c;
    wwi_cur_init(&c, data, (size_t)size);
    switch (kind) {
    case TF_KIND_SAVEDMODEL:
        rc = walk_saved_model(&x, &c);
        break;
    case TF_KIND_GRAPHDEF:
        wwi_finding(s, WW_SEV_NONE, "format", "tensorflow", "graphdef", 0,
                    "frozen TensorFlow GraphDef (tf.import_graph_def)");
        rc = walk_graph(&x, &c);
        break;
    case TF_KIND_KERAS_META:
        rc = wwi_tf_keras_meta(s, &c, x.max_depth);
        break;
    case TF_KIND_FINGERPRINT:
        rc = walk_fingerprint(&x, &c);
        break;
    default:
        rc = wwi_scan_error(s, WW_E_FORMAT, 0, "not a TensorFlow protobuf this scanner knows");
        break;
    }
    wwi_optally_report(s, &x.ops, "op", "tensorflow");
    wwi_optally_free(&x.ops);
    return rc;
}

const wwi_format wwi_format_savedmodel = {
    .name = "savedmodel",
    .description = "TensorFlow SavedModel / GraphDef protobuf: ops of every graph and function",
    .flags = 0,
    .probe = probe,
    .scan = scan,
};
