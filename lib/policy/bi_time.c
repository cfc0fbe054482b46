/* time.* and semver.* builtins. Times are int64 nanoseconds since the Unix
 * epoch, UTC; calendar maths uses the proleptic Gregorian calendar. */
#include <string.h>
#include <time.h>
#include "policy/builtins.h"

int bi_time_now_ns(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    (void)a;
    SET_OUT(wwp_int(e->a, e->now_ns)); /* fixed for one evaluation */
}

/* Days since 1970-01-01 for a civil date (any month/day overflow allowed). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static bool digits(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

#define NS 1000000000LL

int bi_time_parse_rfc3339_ns(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]), "time.parse_rfc3339_ns", "operand must be a string");
    const char *s = a[0]->s;
    size_t n = a[0]->len;
    int64_t Y, M, D, h, mi, sec, frac = 0;
    if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':' || !digits(s, 4, &Y) || !digits(s + 5, 2, &M) || !digits(s + 8, 2, &D) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
        goto bad;
    size_t i = 19;
    if (i < n && s[i] == '.') {
        i++;
        size_t st = i;
        int64_t scale = NS;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (i - st < 9) {
                scale /= 10;
                frac += (s[i] - '0') * scale;
            }
            i++;
        }
        if (i == st)
            goto bad;
    }
    int64_t off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int64_t oh, om;
        if (!digits(s + i + 1, 2, &oh) || !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            goto bad;
        off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        goto bad;
    }
    if (i != n || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || sec > 60)
        goto bad;
    int64_t days = days_from_civil(Y, M, D);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - off;
    int64_t r;
    if (__builtin_mul_overflow(secs, NS, &r) || __builtin_add_overflow(r, frac, &r))
        return wwp_bi_fail(e, "eval_builtin_error", "time.parse_rfc3339_ns: time outside the int64 range");
    SET_OUT(wwp_int(e->a, r));
bad:
    return wwp_bi_fail(e, "eval_builtin_error", "time.parse_rfc3339_ns: invalid RFC 3339 time");
}

static void split_ns(int64_t ns, int64_t *days, int64_t *rem)
{
    int64_t secs = ns / NS, sub = ns % NS;
    if (sub < 0) {
        sub += NS;
        secs--;
    }
    int64_t d = secs / 86400, r = secs % 86400;
    if (r < 0) {
        r += 86400;
        d--;
    }
    *days = d;
    *rem = r * NS + sub;
}

int bi_time_add_date(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_int_val(a[0]) && is_int_val(a[1]) && is_int_val(a[2]) && is_int_val(a[3]),
         "time.add_date", "operands must be integers");
    int64_t days, rem, y, m, d;
    split_ns(a[0]->i, &days, &rem);
    civil_from_days(days, &y, &m, &d);
    if (a[1]->i > 1000000 || a[1]->i < -1000000 || a[2]->i > 12000000 || a[2]->i < -12000000 ||
        a[3]->i > 400000000 || a[3]->i < -400000000)
        return wwp_bi_fail(e, "eval_builtin_error", "time.add_date: outside the supported range");
    /* Go's AddDate: add, then normalise month overflow, then day overflow. */
    y += a[1]->i;
    m += a[2]->i;
    int64_t m0 = m - 1;
    y += m0 >= 0 ? m0 / 12 : -((11 - m0) / 12);
    m = ((m0 % 12) + 12) % 12 + 1;
    int64_t nd = days_from_civil(y, m, 1) + (d - 1) + a[3]->i;
    int64_t r;
    if (__builtin_mul_overflow(nd, 86400 * NS, &r) || __builtin_add_overflow(r, rem, &r))
        return wwp_bi_fail(e, "eval_builtin_error", "time.add_date: time outside the int64 range");
    SET_OUT(wwp_int(e->a, r));
}

int bi_time_date(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_int_val(a[0]), "time.date", "operand must be an integer (nanoseconds)");
    int64_t days, rem, y, m, d;
    split_ns(a[0]->i, &days, &rem);
    civil_from_days(days, &y, &m, &d);
    wwp_val **items = wwp_alloc_array(e->a, 3, sizeof(*items));
    if (!items || !(items[0] = wwp_int(e->a, y)) || !(items[1] = wwp_int(e->a, m)) ||
        !(items[2] = wwp_int(e->a, d)))
        return wwp_ev_oom(e);
    SET_OUT(wwp_arr(e->a, items, 3));
}

/* ---- semver ---------------------------------------------------------------- */

typedef struct semver {
    uint64_t v[3];
    const char *pre;
    size_t prelen;
} semver;

static bool num_ident(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool ident_ok(const char *s, size_t n, bool pre)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'))
            return false;
    }
    return !(pre && num_ident(s, n) && n > 1 && s[0] == '0');
}

static bool dotted_ok(const char *s, size_t n, bool pre)
{
    size_t st = 0;
    for (size_t i = 0; i <= n; i++)
        if (i == n || s[i] == '.') {
            if (!ident_ok(s + st, i - st, pre))
                return false;
            st = i + 1;
        }
    return true;
}

static bool semver_parse(const wwp_val *x, semver *o)
{
    const char *s = x->s;
    size_t n = x->len, i = 0;
    memset(o, 0, sizeof(*o));
    for (int k = 0; k < 3; k++) {
        size_t st = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == st || i - st > 18 || (s[st] == '0' && i - st > 1))
            return false;
        for (size_t j = st; j < i; j++)
            o->v[k] = o->v[k] * 10 + (uint64_t)(s[j] - '0');
        if (k < 2 && (i >= n || s[i++] != '.'))
            return false;
    }
    size_t end = n;
    const char *plus = memchr(s + i, '+', n - i);
    if (plus) {
        end = (size_t)(plus - s);
        if (!dotted_ok(plus + 1, n - end - 1, false))
            return false;
    }
    if (i < end) {
        if (s[i] != '-' || !dotted_ok(s + i + 1, end - i - 1, true))
            return false;
        o->pre = s + i + 1;
        o->prelen = end - i - 1;
    }
    return true;
}

static int cmp_ident(const char *a, size_t al, const char *b, size_t bl)
{
    bool an = num_ident(a, al), bn = num_ident(b, bl);
    if (an && bn) {
        if (al != bl)
            return al < bl ? -1 : 1;
        int c = memcmp(a, b, al);
        return c < 0 ? -1 : c > 0;
    }
    if (an != bn)
        return an ? -1 : 1;
    size_t n = al < bl ? al : bl;
    int c = memcmp(a, b, n);
    if (c)
        return c < 0 ? -1 : 1;
    return al < bl ? -1 : al > bl;
}

static int semver_cmp(const semver *a, const semver *b)
{
    for (int k = 0; k < 3; k++)
        if (a->v[k] != b->v[k])
            return a->v[k] < b->v[k] ? -1 : 1;
    if (!a->pre || !b->pre)
        return a->pre ? -1 : b->pre ? 1 : 0;
    size_t i = 0, j = 0;
    while (i <= a->prelen && j <= b->prelen) {
        if (i == a->prelen + 1 || j == b->prelen + 1)
            break;
        size_t ie = i, je = j;
        while (ie < a->prelen && a->pre[ie] != '.')
            ie++;
        while (je < b->prelen && b->pre[je] != '.')
            je++;
        int c = cmp_ident(a->pre + i, ie - i, b->pre + j, je - j);
        if (c)
            return c;
        i = ie + 1;
        j = je + 1;
        bool ad = i > a->prelen, bd = j > b->prelen;
        if (ad || bd)
            return ad && bd ? 0 : ad ? -1 : 1;
    }
    return 0;
}

int bi_semver_compare(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]) && is_str(a[1]), "semver.compare", "operands must be strings");
    semver x, y;
    if (!semver_parse(a[0], &x) || !semver_parse(a[1], &y))
        return wwp_bi_fail(e, "eval_builtin_error", "semver.compare: invalid semantic version");
    SET_OUT(wwp_int(e->a, semver_cmp(&x, &y)));
}

int bi_semver_is_valid(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    semver x;
    (void)e;
    *out = wwp_bool(is_str(a[0]) && semver_parse(a[0], &x));
    return 0;
}
