/* jinja: stand-alone chat templates (chat_template.jinja, *.j2, and any text
 * that is mostly a Jinja program). Detection by content is necessarily weak
 * for text, so the probe is low-confidence and JSON wins ties. */
#include "formats/format.h"
#include "formats/jinja/template.h"
#include "util/strutil.h"

static bool after_ws_word(const uint8_t *h, size_t n, size_t i, const char *w)
{
    while (i < n && (h[i] == ' ' || h[i] == '-' || h[i] == '+' || h[i] == '\t' || h[i] == '\n'))
        i++;
    size_t m = strlen(w);
    return m <= n - i && wwi_bytes_eq(h + i, w, m) &&
           (i + m == n || h[i + m] == ' ' || h[i + m] == '%' || h[i + m] == '-' ||
            h[i + m] == '\n' || h[i + m] == '(');
}

static int probe(const uint8_t *head, size_t n, uint64_t size)
{
    (void)size;
    static const char *const tags[] = {"for", "if", "set", "macro", "raw", "block", "extends",
                                       "include", "import", "from", "filter", "with", "call",
                                       "generation"};
    bool stmt = false, expr = false, any = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = head[i];
        /* Control bytes other than whitespace: binary, not a template. */
        if (c < 0x09 || (c > 0x0d && c < 0x20) || c == 0x7f)
            return 0;
        if (c != '{' || i + 1 >= n)
            continue;
        if (head[i + 1] == '%')
            for (size_t k = 0; k < sizeof tags / sizeof tags[0] && !stmt; k++)
                stmt = after_ws_word(head, n, i + 2, tags[k]);
        else if (head[i + 1] == '{')
            for (size_t k = i + 2; k + 1 < n && !expr; k++)
                expr = head[k] == '}' && head[k + 1] == '}';
        if (head[i + 1] == '%' || head[i + 1] == '{')
            any = true;
    }
    /* A bare "{{" / "{%" is weak evidence, but enough to look: analysis of
     * non-template text is lenient (see scan), so a README costs nothing. */
    return stmt ? 25 : expr ? 15 : any ? 10 : 0;
}

/* Extensions under which the text is meant to be a template: there a parse
 * failure is an error. Elsewhere (README, YAML) "{{" may be something else. */
static bool template_ext(const char *ext)
{
    static const char *const exts[] = {".jinja", ".jinja2", ".j2", ".template", ".tmpl", ".tpl"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (wwi_str_eq(ext, exts[i]))
            return true;
    return false;
}

static ww_status scan(wwi_scan *s, wwi_src *in)
{
    const ww_limits *lim = wwi_scan_limits(s);
    uint64_t size = wwi_src_size(in);
    if (size > lim->max_header_bytes)
        return wwi_scan_limit(s, "max_header_bytes", "template text of %llu bytes not analysed",
                              (unsigned long long)size);
    const uint8_t *p = NULL;
    ww_status st = wwi_src_view_all(in, lim->max_header_bytes, &p);
    if (st != WW_OK)
        return wwi_scan_error(s, st, 0, "cannot read the template: %s", ww_strerror(st));
    if (memchr(p, 0, (size_t)size))
        return wwi_scan_error(s, WW_E_FORMAT, 0, "NUL byte in template text");
    /* A chat template is a program the serving stack renders; text with only
     * a stray "{{" outside a template file is not claimed as one. */
    bool strict = template_ext(wwi_scan_ext(s));
    size_t n = size < WWI_PROBE_BYTES ? (size_t)size : WWI_PROBE_BYTES;
    wwi_scan_set_format(s, "jinja", strict || probe(p, n, size) >= 15);
    unsigned flags = strict ? 0 : WWI_TEMPLATE_LENIENT;
    return wwi_template_scan_ex(s, (const char *)p, (size_t)size, "file", 0, flags);
}

const wwi_format wwi_format_jinja = {
    .name = "jinja",
    .description = "Jinja chat template (chat_template.jinja, .j2)",
    .flags = WWI_FMT_CODE_CAPABLE,
    .probe = probe,
    .scan = scan,
};
