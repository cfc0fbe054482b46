/* onnx: ModelProto walker. Lists operators by domain (custom domains need a
 * native custom-op library: T-ONNX-CUSTOM-DOMAIN), follows subgraphs of
 * control-flow attributes, local functions and training graphs (depth capped
 * by max_json_depth), and checks every tensor (T-ONNX-EXTDATA). */
#include <stdio.h>
#include "formats/format.h"
#include "formats/onnx/onnx.h"
#include "util/alloc.h"
#include "util/strutil.h"

typedef struct onnx_domain {
    const char *name;
    ww_severity sev;
    const char *reason;
} onnx_domain;

static const onnx_domain domains[] = {
#define WW_ONNX_DOMAIN(n, sev, why) {n, sev, why},
#include "formats/onnx/onnx_domains.def"
#undef WW_ONNX_DOMAIN
};

static const onnx_domain *find_domain(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < sizeof domains / sizeof domains[0]; i++)
        if (strlen(domains[i].name) == n && wwi_bytes_eq(domains[i].name, d, n))
            return &domains[i];
    return NULL;
}

/* ---- probe --------------------------------------------------------------- */

/* Top-level ModelProto fields and their wire types. */
static const wwi_pb_shape model_shape[] = {
    {ONNX_MODEL_IR_VERSION, WWI_PB_VARINT},  {ONNX_MODEL_PRODUCER_NAME, WWI_PB_LEN},
    {ONNX_MODEL_PRODUCER_VERSION, WWI_PB_LEN}, {ONNX_MODEL_DOMAIN, WWI_PB_LEN},
    {ONNX_MODEL_MODEL_VERSION, WWI_PB_VARINT}, {ONNX_MODEL_DOC_STRING, WWI_PB_LEN},
    {ONNX_MODEL_GRAPH, WWI_PB_LEN},          {ONNX_MODEL_OPSET_IMPORT, WWI_PB_LEN},
    {ONNX_MODEL_METADATA_PROPS, WWI_PB_LEN}, {ONNX_MODEL_TRAINING_INFO, WWI_PB_LEN},
    {ONNX_MODEL_FUNCTIONS, WWI_PB_LEN},      {ONNX_MODEL_CONFIGURATION, WWI_PB_LEN},
    {0, 0},
};

/* Serializers write fields in number order, so a model begins with
 * ir_version (tag 0x08) and a small version. SavedModel also begins with
 * 0x08 then field 2 (a MetaGraphDef message where ONNX has producer_name), so
 * every top-level field must have ONNX's wire type and one field that only
 * ONNX has (graph, opset_import, ...) must appear in the head. */
static int probe(const uint8_t *head, size_t n, uint64_t size)
{
    wwi_cur c;
    wwi_pb_field f;
    /* Truncation is tolerated even when the head is the whole file: a cut
     * model must still be claimed, then fail as truncated in scan(). */
    bool partial = true;
    (void)size;
    wwi_cur_init(&c, head, n);
    if (n < 4 || head[0] != 0x08 || !wwi_pb_next(&c, &f, 0) || f.v == 0 ||
        f.v > ONNX_MAX_IR_VERSION)
        return 0;
    if (wwi_pb_match(head, n, partial, model_shape) < 2)
        return 0;
    bool onnx_only = false;
    while (wwi_pb_next(&c, &f, 4) || (c.err == WW_E_TRUNCATED && f.num != 0)) {
        if (f.num >= ONNX_MODEL_PRODUCER_VERSION)
            onnx_only = true;
        if (c.err != WW_OK)
            break;
    }
    return onnx_only ? 80 : 0;
}

/* ---- walker -------------------------------------------------------------- */

static ww_status walk_graph(onnx_ctx *x, wwi_cur *c, uint32_t depth, const char *where);

static ww_status depth_check(onnx_ctx *x, uint32_t depth, const char *where)
{
    /* Each level costs ~2 KB of stack here: a hard ceiling keeps a raised
     * max_json_depth from turning into a stack overflow. */
    if (depth > x->max_depth || depth > ONNX_MAX_NEST)
        return wwi_scan_limit(x->s, "max_json_depth", "ONNX subgraphs nested deeper than %u at %s",
                              (unsigned)x->max_depth, where);
    return WW_OK;
}

static ww_status need_len(onnx_ctx *x, const wwi_pb_field *f, const char *what)
{
    if (f->wt != WWI_PB_LEN)
        return wwi_scan_error(x->s, WW_E_FORMAT, f->off,
                              "ONNX %s: field %u has wire type %u, expected a message", what,
                              f->num, f->wt);
    return WW_OK;
}

static ww_status walk_sparse(onnx_ctx *x, wwi_cur *c, const char *where)
{
    wwi_pb_field f;
    while (wwi_pb_next(c, &f, x->max_depth)) {
        if (f.num != ONNX_SPARSE_VALUES && f.num != ONNX_SPARSE_INDICES)
            continue;
        ww_status st = need_len(x, &f, where);
        if (st != WW_OK)
            return st;
        wwi_cur sub;
        wwi_pb_sub(c, &f, &sub);
        st = wwi_onnx_tensor(x, &sub, where);
        if (st != WW_OK)
            return st;
    }
    return c->err != WW_OK ? wwi_onnx_fail(x, c, where) : WW_OK;
}

/* AttributeProto: only the fields that hold tensors or graphs matter. */
static ww_status walk_attr(onnx_ctx *x, wwi_cur *c, uint32_t depth, const char *where)
{
    wwi_pb_field f;
    ww_status st = depth_check(x, depth, where);
    while (st == WW_OK && wwi_pb_next(c, &f, x->max_depth)) {
        bool tensor = f.num == ONNX_ATTR_T || f.num == ONNX_ATTR_TENSORS;
        bool graph = f.num == ONNX_ATTR_G || f.num == ONNX_ATTR_GRAPHS;
        bool sparse = f.num == ONNX_ATTR_SPARSE_TENSOR || f.num == ONNX_ATTR_SPARSE_TENSORS;
        if (!tensor && !graph && !sparse)
            continue;
        st = need_len(x, &f, where);
        if (st != WW_OK)
            break;
        wwi_cur sub;
        wwi_pb_sub(c, &f, &sub);
        if (tensor)
            st = wwi_onnx_tensor(x, &sub, where);
        else if (sparse)
            st = walk_sparse(x, &sub, where);
        else
            st = walk_graph(x, &sub, depth + 1, where);
    }
    if (st == WW_OK && c->err != WW_OK)
        st = wwi_onnx_fail(x, c, where);
    return st;
}

static bool is_local_function(const onnx_ctx *x, const uint8_t *dom, size_t dl, const uint8_t *op,
                              size_t ol)
{
    for (size_t i = 0; i < x->nfns; i++)
        if (x->fns[i].dlen == dl && x->fns[i].nlen == ol &&
            wwi_bytes_eq(x->fns[i].domain, dom, dl) && wwi_bytes_eq(x->fns[i].name, op, ol))
            return true;
    return false;
}

static ww_status walk_node(onnx_ctx *x, wwi_cur *c, uint32_t depth, const char *graph)
{
    wwi_pb_field f;
    const uint8_t *op = (const uint8_t *)"", *dom = (const uint8_t *)"", *nm = NULL;
    size_t ol = 0, dl = 0, nl = 0, start = c->pos;
    ww_status st = WW_OK;
    /* Pass 1: identity (last value wins, as protobuf merges it). */
    wwi_cur pre = *c;
    while (wwi_pb_next(&pre, &f, x->max_depth)) {
        if (f.num != ONNX_NODE_NAME && f.num != ONNX_NODE_OP_TYPE && f.num != ONNX_NODE_DOMAIN)
            continue;
        if (f.wt != WWI_PB_LEN)
            return wwi_scan_error(x->s, WW_E_FORMAT, f.off, "ONNX node in %s: field %u is not a "
                                  "string", graph, f.num);
        if (f.num == ONNX_NODE_NAME)
            nm = wwi_pb_data(&pre, &f), nl = f.len;
        else if (f.num == ONNX_NODE_OP_TYPE)
            op = wwi_pb_data(&pre, &f), ol = f.len;
        else
            dom = wwi_pb_data(&pre, &f), dl = f.len;
    }
    if (pre.err != WW_OK)
        return wwi_onnx_fail(x, &pre, graph);

    char pname[128], pop[128], pdom[128], where[512], key[300];
    wwi_printable(nm ? nm : (const uint8_t *)"", nl, pname, sizeof pname);
    wwi_printable(op, ol, pop, sizeof pop);
    wwi_printable(dom, dl, pdom, sizeof pdom);
    snprintf(where, sizeof where, "node '%s' of %s", pname, graph);
    snprintf(key, sizeof key, "%s::%s", pdom, pop);

    const onnx_domain *d = find_domain(dom, dl);
    ww_severity sev = WW_SEV_NONE;
    const char *reason = NULL;
    if (ol == 0) {
        return wwi_scan_error(x->s, WW_E_FORMAT, start, "ONNX %s has no op_type", where);
    } else if (is_local_function(x, dom, dl, op, ol)) {
        reason = "call of a function defined in this model (its body is scanned)";
    } else if (d) {
        sev = d->sev;
        reason = d->reason;
    } else {
        /* Needs SessionOptions.register_custom_ops_library (native code) or
         * onnxruntime-extensions (which can run Python). */
        sev = WW_SEV_MEDIUM;
        wwi_finding(x->s, sev, "custom_op", pdom, key, start,
                    "%s uses operator %s from non-standard domain '%s': running it needs a "
                    "custom-op library (native or Python code)",
                    where, key, pdom);
        reason = "custom operator domain";
    }
    /* The inventory counts by domain::op_type; MEDIUM ones were reported above
     * with their location, so the tally notes them without raising again. */
    st = wwi_optally_add(&x->ops, (const uint8_t *)key, strlen(key), where, start,
                         sev >= WW_SEV_MEDIUM ? WW_SEV_NONE : sev, reason);
    if (st != WW_OK)
        return wwi_scan_error(x->s, st, start, "ONNX: out of memory tallying operators");

    while (st == WW_OK && wwi_pb_next(c, &f, x->max_depth)) {
        if (f.num != ONNX_NODE_ATTRIBUTE)
            continue;
        st = need_len(x, &f, where);
        if (st != WW_OK)
            break;
        wwi_cur sub;
        wwi_pb_sub(c, &f, &sub);
        st = walk_attr(x, &sub, depth + 1, where);
    }
    if (st == WW_OK && c->err != WW_OK)
        st = wwi_onnx_fail(x, c, where);
    return st;
}

static ww_status walk_graph(onnx_ctx *x, wwi_cur *c, uint32_t depth, const char *parent)
{
    wwi_pb_field f;
    char where[512], gname[128] = "";
    ww_status st = depth_check(x, depth, parent);
    if (st != WW_OK)
        return st;
    wwi_cur pre = *c;
    while (wwi_pb_next(&pre, &f, x->max_depth))
        if (f.num == ONNX_GRAPH_NAME && f.wt == WWI_PB_LEN)
            wwi_printable(wwi_pb_data(&pre, &f), f.len, gname, sizeof gname);
    (void)parent; /* the full path would grow with depth; the level is enough */
    if (depth <= 1)
        snprintf(where, sizeof where, "graph '%s'", gname);
    else
        snprintf(where, sizeof where, "subgraph '%s' (level %u)", gname, (unsigned)(depth / 2));

    while (st == WW_OK && wwi_pb_next(c, &f, x->max_depth)) {
        if (f.num != ONNX_GRAPH_NODE && f.num != ONNX_GRAPH_INITIALIZER &&
            f.num != ONNX_GRAPH_SPARSE_INITIALIZER)
            continue;
        st = need_len(x, &f, where);
        if (st != WW_OK)
            break;
        st = wwi_scan_check_time(x->s);
        if (st != WW_OK)
            break;
        wwi_cur sub;
        wwi_pb_sub(c, &f, &sub);
        if (f.num == ONNX_GRAPH_NODE)
            st = walk_node(x, &sub, depth, where);
        else if (f.num == ONNX_GRAPH_INITIALIZER)
            st = wwi_onnx_tensor(x, &sub, where);
        else
            st = walk_sparse(x, &sub, where);
    }
    if (st == WW_OK && c->err != WW_OK)
        st = wwi_onnx_fail(x, c, where);
    return st;
}

/* FunctionProto: its nodes are operators like a graph's. */
static ww_status walk_function(onnx_ctx *x, wwi_cur *c, const onnx_fn *fn)
{
    wwi_pb_field f;
    char where[300], pn[128], pd[128];
    ww_status st = WW_OK;
    wwi_printable(fn->domain, fn->dlen, pd, sizeof pd);
    wwi_printable(fn->name, fn->nlen, pn, sizeof pn);
    snprintf(where, sizeof where, "function '%s::%s'", pd, pn);
    const onnx_domain *d = find_domain(fn->domain, fn->dlen);
    if (d && d->sev == WW_SEV_NONE)
        wwi_finding(x->s, WW_SEV_MEDIUM, "function", pd, pn, c->pos,
                    "%s is defined in a standard ONNX domain and may shadow a standard "
                    "operator of that name",
                    where);
    while (st == WW_OK && wwi_pb_next(c, &f, x->max_depth)) {
        if (f.num != ONNX_FUNC_NODE && f.num != ONNX_FUNC_ATTRIBUTE_PROTO)
            continue;
        st = need_len(x, &f, where);
        if (st != WW_OK)
            break;
        wwi_cur sub;
        wwi_pb_sub(c, &f, &sub);
        st = f.num == ONNX_FUNC_NODE ? walk_node(x, &sub, 1, where)
                                     : walk_attr(x, &sub, 2, where);
    }
    if (st == WW_OK && c->err != WW_OK)
        st = wwi_onnx_fail(x, c, where);
    return st;
}

/* Identity of a FunctionProto (name, domain; last value wins). */
static ww_status function_id(onnx_ctx *x, const wwi_cur *c, onnx_fn *fn)
{
    wwi_pb_field f;
    wwi_cur pre = *c;
    fn->domain = fn->name = (const uint8_t *)"";
    fn->dlen = fn->nlen = 0;
    while (wwi_pb_next(&pre, &f, x->max_depth)) {
        if (f.num != ONNX_FUNC_NAME && f.num != ONNX_FUNC_DOMAIN)
            continue;
        if (f.wt != WWI_PB_LEN)
            return wwi_scan_error(x->s, WW_E_FORMAT, f.off, "ONNX function: field %u is not a "
                                  "string", f.num);
        if (f.num == ONNX_FUNC_NAME)
            fn->name = wwi_pb_data(&pre, &f), fn->nlen = f.len;
        else
            fn->domain = wwi_pb_data(&pre, &f), fn->dlen = f.len;
    }
    return pre.err != WW_OK ? wwi_onnx_fail(x, &pre, "function") : WW_OK;
}

static ww_status walk_training(onnx_ctx *x, wwi_cur *c)
{
    wwi_pb_field f;
    ww_status st = WW_OK;
    while (st == WW_OK && wwi_pb_next(c, &f, x->max_depth)) {
        if (f.num != ONNX_TRAINING_INITIALIZATION && f.num != ONNX_TRAINING_ALGORITHM)
            continue;
        st = need_len(x, &f, "training_info");
        if (st != WW_OK)
            break;
        wwi_cur sub;
        wwi_pb_sub(c, &f, &sub);
        st = walk_graph(x, &sub, 1, "training_info");
    }
    if (st == WW_OK && c->err != WW_OK)
        st = wwi_onnx_fail(x, c, "training_info");
    return st;
}

/* Pass 1 over the model: collect local functions, so that calls to them are
 * not mistaken for custom operators. */
static ww_status collect_functions(onnx_ctx *x, const wwi_cur *model)
{
    wwi_cur c = *model;
    wwi_pb_field f;
    size_t cap = 0;
    while (wwi_pb_next(&c, &f, x->max_depth)) {
        if (f.num != ONNX_MODEL_FUNCTIONS)
            continue;
        ww_status st = need_len(x, &f, "model");
        if (st != WW_OK)
            return st;
        if (x->nfns == cap) {
            size_t nc = cap ? cap * 2 : 16;
            void *p = x->fns;
            if (wwi_realloc(&p, nc * sizeof *x->fns) != WW_OK)
                return wwi_scan_error(x->s, WW_E_NOMEM, f.off, "ONNX: too many functions");
            x->fns = p;
            cap = nc;
        }
        wwi_cur sub;
        wwi_pb_sub(&c, &f, &sub);
        st = function_id(x, &sub, &x->fns[x->nfns]);
        if (st != WW_OK)
            return st;
        x->nfns++;
    }
    return c.err != WW_OK ? wwi_onnx_fail(x, &c, "model") : WW_OK;
}

static ww_status scan(wwi_scan *s, wwi_src *in)
{
    ww_status rc = WW_OK;
    const uint8_t *data = NULL;
    onnx_ctx x = {0};
    x.s = s;
    x.max_depth = wwi_scan_limits(s)->max_json_depth;
    /* Protobuf messages are capped at 2 GiB, so a bigger file is not one model. */
    uint64_t size = wwi_src_size(in);
    if (size > (2ull << 30))
        return wwi_scan_error(s, WW_E_FORMAT, 0, "ONNX file larger than the 2 GiB protobuf limit");
    rc = wwi_src_view_all(in, 2ull << 30, &data);
    if (rc != WW_OK)
        return wwi_scan_error(s, rc, 0, "ONNX: cannot read the model: %s", ww_strerror(rc));

    wwi_cur model;
    wwi_cur_init(&model, data, (size_t)size);
    rc = collect_functions(&x, &model);
    if (rc != WW_OK)
        goto done;

    wwi_pb_field f;
    size_t fi = 0;
    bool graph_seen = false;
    while (rc == WW_OK && wwi_pb_next(&model, &f, x.max_depth)) {
        if (f.num == ONNX_MODEL_IR_VERSION && (f.wt != WWI_PB_VARINT || f.v == 0)) {
            rc = wwi_scan_error(s, WW_E_FORMAT, f.off, "ONNX: bad ir_version");
            break;
        }
        if (f.num != ONNX_MODEL_GRAPH && f.num != ONNX_MODEL_FUNCTIONS &&
            f.num != ONNX_MODEL_TRAINING_INFO)
            continue;
        rc = need_len(&x, &f, "model");
        if (rc != WW_OK)
            break;
        wwi_cur sub;
        wwi_pb_sub(&model, &f, &sub);
        if (f.num == ONNX_MODEL_GRAPH) {
            graph_seen = true;
            rc = walk_graph(&x, &sub, 1, "model");
        } else if (f.num == ONNX_MODEL_FUNCTIONS) {
            if (fi >= x.nfns) { /* pass 1 saw the same fields: cannot happen */
                rc = wwi_scan_error(s, WW_E_INTERNAL, f.off, "ONNX: function count changed");
                break;
            }
            rc = walk_function(&x, &sub, &x.fns[fi++]);
        } else {
            rc = walk_training(&x, &sub);
        }
    }
    if (rc == WW_OK && model.err != WW_OK)
        rc = wwi_onnx_fail(&x, &model, "model");
    if (rc == WW_OK && !graph_seen)
        rc = wwi_scan_error(s, WW_E_FORMAT, 0, "ONNX model without a graph");
done:
    /* The inventory is reported even after an error: errors never erase findings. */
    wwi_optally_report(s, &x.ops, "op", "onnx");
    wwi_optally_free(&x.ops);
    wwi_free(x.fns);
    return rc;
}

const wwi_format wwi_format_onnx = {
    .name = "onnx",
    .description = "ONNX model (ModelProto): operators, subgraphs, external data",
    .flags = 0,
    .probe = probe,
    .scan = scan,
};
