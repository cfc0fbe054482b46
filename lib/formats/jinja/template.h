/* Chat-template (Jinja) analysis, shared by GGUF (tokenizer.chat_template*),
 * the json module (tokenizer_config.json chat_template) and the jinja module
 * (chat_template.jinja files). */
#ifndef WWI_TEMPLATE_H
#define WWI_TEMPLATE_H
#include "core/scan.h"

/* Analyse one template; `where` names it in findings (e.g. the GGUF key).
 * Benign templates of real models produce no finding at or above LOW.
 * Findings: kind "template", module = where, name = what the template reaches.
 * A template that does not parse is a WW_E_FORMAT error (fail closed). Returns
 * WW_OK unless the scan must stop (out of memory, time). */
WW_NODISCARD ww_status wwi_template_scan(wwi_scan *s, const char *text, size_t len,
                                         const char *where);

enum {
    /* The text merely contains "{{" or "{%" (a free-form string, a README):
     * report what it reaches, but a parse failure is not an error. */
    WWI_TEMPLATE_LENIENT = 1u << 0,
};
/* Same, with flags and the byte offset of text within the current layer
 * (UINT64_MAX when unknown) for findings. */
WW_NODISCARD ww_status wwi_template_scan_ex(wwi_scan *s, const char *text, size_t len,
                                            const char *where, uint64_t base, unsigned flags);
/* True if text contains a Jinja block opener ("{{" or "{%"). */
bool wwi_template_has_blocks(const char *text, size_t len);
#endif
