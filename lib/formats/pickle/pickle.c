/* pickle: the format module. Detection by content (protocol 2-5 header, or a
 * protocol 0/1 stream whose first opcodes decode validly), then the symbolic
 * machine (vm.c) over every stacked pickle in the layer. */
#include "formats/format.h"
#include "formats/pickle/pk.h"
#include "util/alloc.h"
#include "util/strutil.h"

void wwi_pickle_hint_clear(wwi_pickle_hint *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_storage_keys; i++)
        wwi_free(h->storage_keys[i]);
    wwi_free(h->storage_keys);
    h->storage_keys = NULL;
    h->n_storage_keys = 0;
}

static ww_status copy_keys(const pk_ctx *c, wwi_pickle_hint *h)
{
    if (c->nskeys == 0)
        return WW_OK;
    char **arr = wwi_calloc(c->nskeys, sizeof *arr);
    if (!arr)
        return WW_E_NOMEM;
    wwi_pickle_hint_clear(h);
    h->storage_keys = arr;
    for (size_t i = 0; i < c->nskeys; i++) {
        arr[i] = wwi_strndup((const char *)c->skeys[i].p, c->skeys[i].n);
        if (!arr[i])
            return WW_E_NOMEM;
        h->n_storage_keys = i + 1;
    }
    return WW_OK;
}

/* T-TORCHSCRIPT: a TorchScript archive runs its code/ when loaded. Reported
 * once per archive, by the member every archive has (its data.pkl). */
static void torchscript_once(wwi_scan *s)
{
    const char *mem = wwi_scan_member(s);
    size_t n = mem ? strlen(mem) : 0;
    if (n < 8 || !wwi_bytes_eq(mem + n - 8, "data.pkl", 8) || (n > 8 && mem[n - 9] != '/'))
        return;
    wwi_finding(s, WW_SEV_MEDIUM, "code", NULL, "T-TORCHSCRIPT", UINT64_MAX,
                "contains TorchScript code (runs when loaded with torch.jit.load or torch.load)");
}

ww_status wwi_pickle_scan_bytes(wwi_scan *s, const uint8_t *data, size_t len,
                                wwi_pickle_hint *hint)
{
    pk_ctx c;
    uint64_t consumed = 0;
    pk_ctx_init(&c, s);
    if (hint && hint->torchscript) {
        c.torchscript = true;
        torchscript_once(s);
    }
    ww_status rc = pk_run(&c, data, len, hint ? hint->max_pickles : 0, &consumed);
    /* Findings first: an error never erases what was seen before it. */
    pk_ctx_flush(&c);
    if (hint) {
        hint->consumed = consumed;
        ww_status st = copy_keys(&c, hint);
        if (rc == WW_OK)
            rc = st;
    }
    pk_ctx_free(&c);
    return rc;
}

static ww_status scan(wwi_scan *s, wwi_src *in)
{
    const uint8_t *data = NULL;
    uint64_t size = wwi_src_size(in);
    uint64_t max = wwi_scan_limits(s)->max_member_bytes;
    if (size > max || size > SIZE_MAX)
        return wwi_scan_limit(s, "max_member_bytes", "pickle of %llu bytes",
                              (unsigned long long)size);
    ww_status st = size ? wwi_src_view(in, 0, (size_t)size, &data) : WW_OK;
    if (st != WW_OK)
        return wwi_scan_error(s, st, 0, "cannot read the pickle: %s", ww_strerror(st));
    return wwi_pickle_scan_bytes(s, data, (size_t)size, (wwi_pickle_hint *)wwi_scan_hint(s));
}

/* Protocol 0/1 have no magic: decode the first opcodes with a light checker
 * (valid opcodes, well-formed arguments, MARKs balanced). Plain text, JSON and
 * CSV fail on their first bytes. */
static bool name_line(const uint8_t *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
                  ch == '.' || (ch >= '0' && ch <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static bool dec_line(const uint8_t *p, size_t n)
{
    size_t i = (n > 0 && (p[0] == '-' || p[0] == '+')) ? 1 : 0;
    if (n > 0 && p[n - 1] == 'L')
        n--;
    if (i >= n)
        return false;
    for (; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

static int probe_text(const uint8_t *head, size_t n)
{
    wwi_cur c;
    wwi_cur_init(&c, head, n);
    int ops = 0, marks = 0, depth = 0;
    bool global = false;
    while (!wwi_cur_eof(&c) && ops < 64) {
        uint8_t op = wwi_cur_u8(&c);
        size_t ln = 0;
        const uint8_t *l = NULL;
        ops++;
        switch (op) {
        case '(': marks++; break;
        case '.': return depth >= 1 && (global || ops >= 2) ? 70 : 0;
        case '0': if (depth > 0) depth--; else if (marks) marks--; else return 0; break;
        case '1': if (!marks) return 0; marks--; break;
        case '2': if (!depth) return 0; depth++; break;
        case 'N': case ')': case ']': case '}': depth++; break;
        case 'I': case 'L': case 'F': case 'g': case 'p':
            l = wwi_cur_line(&c, 64, &ln);
            if (!l)
                return 0;
            if (op != 'F' && !dec_line(l, ln))
                return 0;
            if (op != 'p')
                depth++;
            break;
        case 'S':
            l = wwi_cur_line(&c, 4096, &ln);
            if (!l || ln < 2 || (l[0] != '\'' && l[0] != '"') || l[ln - 1] != l[0])
                return 0;
            depth++;
            break;
        case 'V':
            if (!wwi_cur_line(&c, 4096, &ln))
                return 0;
            depth++;
            break;
        case 'c': case 'i': {
            size_t a = 0, b = 0;
            const uint8_t *m = wwi_cur_line(&c, 256, &a);
            const uint8_t *nm = m ? wwi_cur_line(&c, 256, &b) : NULL;
            if (!nm || !name_line(m, a) || !name_line(nm, b))
                return 0;
            global = true;
            depth++;
            break;
        }
        case 'q': case 'h': case 'K': if (!wwi_cur_skip(&c, 1)) return 0; if (op == 'K') depth++; break;
        case 'M': if (!wwi_cur_skip(&c, 2)) return 0; depth++; break;
        case 'J': case 'r': case 'j': if (!wwi_cur_skip(&c, 4)) return 0; if (op == 'J') depth++; break;
        case 'G': if (!wwi_cur_skip(&c, 8)) return 0; depth++; break;
        case 'U': case 'T': case 'X': {
            uint32_t len = op == 'U' ? wwi_cur_u8(&c) : wwi_cur_u32le(&c);
            if (c.err)
                return 0;
            if (len > wwi_cur_left(&c)) /* cut by the probe window, or a lying length */
                return global ? 40 : 0;
            wwi_cur_skip(&c, len);
            depth++;
            break;
        }
        case 'B': case 0x8d: case 0x8e: case 0x96: case 0x8c: case 'C': case 0x8a: {
            /* length-prefixed strings, bytes and longs (protocol-less streams use them too) */
            uint64_t len = op == 'B' ? wwi_cur_u32le(&c)
                           : (op == 0x8c || op == 'C' || op == 0x8a) ? wwi_cur_u8(&c)
                                                                     : wwi_cur_u64le(&c);
            if (c.err || len > wwi_cur_left(&c))
                return 0;
            wwi_cur_skip(&c, (size_t)len);
            depth++;
            break;
        }
        case 0x95:
            if (!wwi_cur_skip(&c, 8))
                return 0;
            break;
        case 0x88: case 0x89: case 0x8f: depth++; break;
        case 0x93: case 0x85: case 0x86: case 0x87: case 0x94: case 0x81: case 0x92:
        case 0x90: case 0x91:
            if (ops == 1)
                return 0;
            if (op == 0x93)
                global = true;
            break;
        case 'a': case 'b': case 's': case 'R': case 't': case 'l': case 'd': case 'e':
        case 'u': case 'o': case 'Q': case 'P':
            if (op == 'P' && !wwi_cur_line(&c, 256, &ln))
                return 0;
            if (ops == 1)
                return 0; /* a real stream does not start by consuming */
            break;
        default:
            return 0;
        }
    }
    /* No STOP within the head: believable only for a long, well-formed run
     * with an import in it. */
    return wwi_cur_eof(&c) && n < WWI_PROBE_BYTES ? 0 : (global && ops >= 4 ? 45 : 0);
}

static int probe(const uint8_t *head, size_t n, uint64_t size)
{
    (void)size;
    if (n >= 2 && head[0] == 0x80 && head[1] <= 5) {
        if (head[1] >= 2)
            return 80;
        return n >= 3 ? 50 : 0;
    }
    return n >= 2 ? probe_text(head, n) : 0;
}

const wwi_format wwi_format_pickle = {
    .name = "pickle",
    .description = "Python pickle (protocols 0-5; pickle.load, torch.load, joblib.load)",
    .flags = WWI_FMT_CODE_CAPABLE,
    .probe = probe,
    .scan = scan,
};
