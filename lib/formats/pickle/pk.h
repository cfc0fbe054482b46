/* pk.h: private interface of the pickle engine (lib/formats/pickle and
 * lib/formats/torch_legacy only). The engine is a symbolic stack-and-memo
 * machine: it decodes every opcode but never executes anything; each stack
 * slot holds a small tagged value saying what the real unpickler would have
 * there (a literal string, an imported object, the result of a call...). */
#ifndef WWI_PK_H
#define WWI_PK_H
#include "core/scan.h"
#include "formats/pickle/pickle.h"
#include "util/buf.h"

#define PK_GID_NONE UINT32_MAX /* an import we could not resolve */

enum pk_kind {
    PK_ABSENT = 0, /* empty memo slot */
    PK_OTHER,      /* data we do not track (floats, sets, persistent objects...) */
    PK_NONE,
    PK_INT,    /* v.u = value when small and non-negative, else PF_BIGINT */
    PK_STR,    /* v.p/n = view into the input (see PF_ESC_*) */
    PK_BYTES,  /* v.p/n = view into the input */
    PK_GLOBAL, /* object obtained by import: gid */
    PK_CALL,   /* result of calling gid (or PK_GID_NONE) */
    PK_INST,   /* instance of class gid made by NEWOBJ/OBJ/_reconstructor */
    PK_TUPLE,
    PK_DICT, /* v.u = serial number (identity, for joblib state tracking) */
    PK_LIST,
};

enum pk_flag {
    PF_ESC_S = 1u << 0,   /* body of a STRING line: Python escape decoding needed */
    PF_ESC_V = 1u << 1,   /* body of a UNICODE line: raw-unicode-escape + latin-1 */
    PF_LATIN1 = 1u << 2,  /* UTF-8 text that _codecs.encode(.., 'latin1') turned to bytes */
    PF_INTS = 1u << 3,    /* tuple of small ints: v.u = their product */
    PF_STORAGE = 1u << 4, /* ('storage', type, KEY, loc, n[, view]): v.p/n = KEY, aux = elsize */
    PF_DTYPE = 1u << 5,   /* numpy.dtype(str, ...) result: v.u = index in the run's dtype table */
    PF_FIRST = 1u << 6,   /* tuple: first element recorded (sub = kind; view or gid) */
    PF_BIGINT = 1u << 7,  /* int that is negative or does not fit 64 bits */
};
/* pk_val.aux of a tuple without PF_STORAGE. */
enum {
    PK_AUX_MODULE = 1, /* legacy torch ('module', cls, file, source) persistent id */
    /* numpy dtype state (3, endian, subarray, names, fields, elsize, alignment, flags) or
     * its 9-item version 4: v.u = elsize (UINT64_MAX: not a small int), n = flags
     * (UINT32_MAX: not a small int) */
    PK_AUX_DSTATE = 2,
};
#define PF_ESC_MASK (PF_ESC_S | PF_ESC_V | PF_LATIN1)

/* 16 bytes: the stack and the fat part of the memo hold millions of these. */
typedef struct pk_val {
    union {
        const uint8_t *p;
        uint64_t u;
    } v;
    union {
        uint32_t n;   /* PK_STR / PK_BYTES / PF_STORAGE / PF_FIRST view: length */
        uint32_t gid; /* PK_GLOBAL / PK_CALL / PK_INST / PF_FIRST global: import */
    };
    uint8_t kind, flags;
    uint8_t sub; /* tuple PF_FIRST: kind of item 0; str/bytes from an opcode: width of its
                  * length field (1, 4 or 8; 0 = line or derived value) */
    uint8_t aux; /* tuple: PK_AUX_*; with PF_STORAGE: element size of the storage type */
} pk_val;
_Static_assert(sizeof(pk_val) == 16, "pk_val is 16 bytes");

/* Build a value in one piece: two 64-bit words in registers. Field-by-field
 * stores followed by a 16-byte copy (push, memo) stall on store forwarding,
 * which cost a third of the machine's time. */
static inline pk_val pk_make(uint64_t u, uint32_t n, uint8_t kind, uint8_t flags, uint8_t sub,
                             uint8_t aux)
{
    pk_val v;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t w[2] = {u, (uint64_t)n | (uint64_t)kind << 32 | (uint64_t)flags << 40 |
                            (uint64_t)sub << 48 | (uint64_t)aux << 56};
    memcpy(&v, w, sizeof v);
#else
    v.v.u = u;
    v.n = n;
    v.kind = kind;
    v.flags = flags;
    v.sub = sub;
    v.aux = aux;
#endif
    return v;
}

/* What a known global does for the machine (not its verdict: that is the table). */
enum pk_role {
    PR_NONE = 0,
    PR_RECON,  /* copyreg._reconstructor / __newobj__: instantiates its first argument */
    PR_DTYPE,  /* numpy.dtype: remember the type string (joblib array size) */
    PR_CODECS, /* _codecs.encode: str -> bytes */
    PR_LOADER, /* deserializer: scan its bytes argument as a nested file */
    PR_JLWRAP, /* joblib NumpyArrayWrapper: raw array bytes follow its BUILD */
    PR_JLSIDE, /* joblib legacy NDArrayWrapper: BUILD makes np.load read `filename` */
};

enum pk_use {
    PU_CALL = 1u << 0, /* invoked with arguments (REDUCE, INST, OBJ with args) */
    PU_NEW = 1u << 1,  /* instantiated the standard way (NEWOBJ, _reconstructor) */
    PU_BUILD = 1u << 2,
};

typedef struct pk_glob {
    char *module, *name;   /* as resolved (after the protocol < 3 name mapping) */
    char *omodule, *oname; /* as written, when the mapping changed them; else NULL */
    const char *reason;
    uint64_t off; /* opcode offset of the first occurrence */
    ww_severity sev;
    bool known, safe;
    uint8_t role, uses;
} pk_glob;

typedef struct pk_view {
    const uint8_t *p;
    uint32_t n;
    uint8_t elsize; /* storage element size (0: unknown) */
} pk_view;

/* One per layer: the globals seen (deduplicated), one-shot findings, and what
 * containers asked to collect. */
typedef struct pk_ctx {
    wwi_scan *s;
    pk_glob *g;
    uint32_t ng, capg;
    uint32_t *gh; /* hash of gid+1 by (module, name); 0 = empty */
    uint32_t ghcap;
    uint32_t once; /* one-shot findings already made */
    bool jl_seen;  /* NumpyArrayWrapper / NDArrayWrapper imported: track state dicts */
    uint32_t jl_depth;
    pk_view *skeys; /* storage keys from persistent ids, in order of appearance */
    size_t nskeys, capskeys;
    bool collect_strs; /* legacy torch: collect the string literals of a pickle */
    /* Embedded pickle found in a data literal (inert unless someone loads it):
     * findings are capped at MEDIUM and its parse errors are not the file's. */
    bool embedded;
    uint32_t emb_depth;
    uint64_t emb_off;
    pk_view *strs;
    size_t nstrs, capstrs;
    /* In: the layer is a pickle member of a TorchScript archive (wwi_pickle_hint). */
    bool torchscript;
} pk_ctx;

void pk_ctx_init(pk_ctx *c, wwi_scan *s);
void pk_ctx_free(pk_ctx *c);
/* Emit one "import" finding per distinct global, severity from table and use. */
void pk_ctx_flush(pk_ctx *c);
/* Record an import; applies the protocol < 3 name mapping. *gid out. */
WW_NODISCARD ww_status pk_ctx_global(pk_ctx *c, const char *mod, size_t modlen, const char *name,
                                     size_t namelen, int proto, uint64_t off, uint32_t *gid);
/* Reporting through the context (embedded pickles: capped, errors dropped). */
ww_status pk_err(pk_ctx *c, ww_status st, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
ww_status pk_lim(pk_ctx *c, const char *limit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pk_find(pk_ctx *c, ww_severity sev, const char *kind, const char *module, const char *name,
             uint64_t off, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Scan a data literal that holds a pickle (raw, base64 or hex) as embedded. */
WW_NODISCARD ww_status pk_embedded(pk_ctx *c, const uint8_t *p, size_t n, uint64_t off);

/* One-shot finding (per layer) identified by bit. */
void pk_ctx_once(pk_ctx *c, uint32_t bit, ww_severity sev, const char *kind, uint64_t off,
                 const char *msg);
WW_NODISCARD ww_status pk_ctx_add_view(pk_view **arr, size_t *n, size_t *cap, pk_view v);

/* Decode a string/bytes value into b (escapes, latin-1). */
WW_NODISCARD ww_status pk_decode(const pk_val *v, wwi_buf *b);

/* Scan stacked pickles in data[0, len). Stops after max_pickles STOPs (0: to
 * the end). *consumed = bytes up to and including the last STOP read.
 * Errors are recorded in the scan; the return value is the first error. */
WW_NODISCARD ww_status pk_run(pk_ctx *c, const uint8_t *data, size_t len, uint32_t max_pickles,
                              uint64_t *consumed);

/* One-shot finding bits. */
enum {
    PK_ONCE_UNRESOLVED = 1u << 0,
    PK_ONCE_EXT = 1u << 1,
    PK_ONCE_COMPUTED_CALL = 1u << 2,
    PK_ONCE_FRAME = 1u << 3,
    PK_ONCE_BUILD = 1u << 4,
    PK_ONCE_MUTATE = 1u << 5,
    PK_ONCE_SIDECAR = 1u << 6,
};
#endif
