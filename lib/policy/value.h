/* Rego values: null, boolean, number, string, array, object, set.
 * Ownership: values are immutable once built and live in an arena (the
 * compiled policy's for constants, the evaluation's for everything else), so
 * they are shared by pointer and never freed one by one. Objects keep their
 * keys sorted and sets their members sorted and unique, which gives lookups by
 * binary search and OPA's deterministic iteration and serialisation order. */
#ifndef WWP_VALUE_H
#define WWP_VALUE_H
#include "policy/arena.h"
#include "util/buf.h"

/* Declared in Rego's type order: comparisons across kinds use it. */
typedef enum wwp_kind {
    WWP_NULL = 0,
    WWP_BOOL,
    WWP_NUM,
    WWP_STR,
    WWP_ARR,
    WWP_OBJ,
    WWP_SET
} wwp_kind;

typedef struct wwp_val wwp_val;
struct wwp_val {
    uint8_t kind;
    bool b;      /* BOOL */
    bool is_int; /* NUM: i is exact; otherwise d */
    int64_t i;
    double d;
    const char *s; /* STR: not NUL-terminated in general */
    size_t len;    /* STR bytes; ARR/SET/OBJ element count */
    wwp_val **items; /* ARR elements, SET members, OBJ keys */
    wwp_val **vals;  /* OBJ values, parallel to items */
};

extern wwp_val wwp_v_null, wwp_v_true, wwp_v_false;
extern wwp_val wwp_v_empty_arr, wwp_v_empty_obj, wwp_v_empty_set, wwp_v_empty_str;
static inline wwp_val *wwp_bool(bool b) { return b ? &wwp_v_true : &wwp_v_false; }

wwp_val *wwp_int(wwp_arena *a, int64_t i);
/* Integral doubles within int64 are stored as ints; NULL for NaN/Inf. */
wwp_val *wwp_num(wwp_arena *a, double d);
wwp_val *wwp_str(wwp_arena *a, const char *s, size_t len); /* copies */
wwp_val *wwp_str_nocopy(wwp_arena *a, const char *s, size_t len);
wwp_val *wwp_arr(wwp_arena *a, wwp_val **items, size_t n); /* adopts items */
/* Sorts and de-duplicates items in place, then adopts them. */
wwp_val *wwp_set(wwp_arena *a, wwp_val **items, size_t n);
/* Sorts pairs by key. Equal keys with equal values collapse; equal keys with
 * different values set *conflict (keep_last: the later one wins instead, as
 * JSON parsing wants). */
wwp_val *wwp_obj(wwp_arena *a, wwp_val **keys, wwp_val **vals, size_t n, bool keep_last,
                 bool *conflict);

/* Growable vector in an arena (old storage is abandoned on growth). */
typedef struct wwp_vec {
    wwp_val **v;
    size_t n, cap;
} wwp_vec;
WW_NODISCARD bool wwp_vec_push(wwp_arena *a, wwp_vec *vec, wwp_val *x);

int wwp_cmp(const wwp_val *a, const wwp_val *b);
static inline bool wwp_eq(const wwp_val *a, const wwp_val *b) { return wwp_cmp(a, b) == 0; }
wwp_val *wwp_obj_get(const wwp_val *o, const wwp_val *key);
wwp_val *wwp_obj_get_str(const wwp_val *o, const char *key, size_t len);
bool wwp_set_has(const wwp_val *s, const wwp_val *x);
/* Number as double (ints converted). */
static inline double wwp_numd(const wwp_val *v) { return v->is_int ? (double)v->i : v->d; }
const char *wwp_type_name(const wwp_val *v);

/* Serialisation. JSON: sets as sorted arrays, non-string keys as their JSON
 * text. Rego: sets as {…}, set() when empty (sprintf %v). */
WW_NODISCARD ww_status wwp_to_json(const wwp_val *v, wwi_buf *out);
WW_NODISCARD ww_status wwp_to_rego(const wwp_val *v, wwi_buf *out);
WW_NODISCARD ww_status wwp_num_text(const wwp_val *v, wwi_buf *out);

/* Parse one JSON document (RFC 8259, UTF-8 checked) into the arena. On error
 * returns WW_E_FORMAT (or WW_E_LIMIT for depth/size) and writes a message
 * with line:col into err. */
WW_NODISCARD ww_status wwp_from_json(wwp_arena *a, const char *text, size_t len,
                                     unsigned max_depth, wwp_val **out, char *err,
                                     size_t errlen);
/* UTF-8 helpers shared by the lexer and builtins. */
bool wwp_utf8_valid(const char *s, size_t len);
size_t wwp_utf8_count(const char *s, size_t len);
/* Append code point cp as UTF-8; returns bytes written (0 if invalid). */
size_t wwp_utf8_put(uint32_t cp, char out[4]);
#endif
