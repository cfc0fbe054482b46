/* Chat-template (Jinja) analysis, shared by GGUF (tokenizer.chat_template*),
 * the json module (tokenizer_config.json chat_template) and the jinja module
 * (chat_template.jinja files). */
#ifndef WWI_TEMPLATE_H
#define WWI_TEMPLATE_H
#include "core/scan.h"

/* Analyse one template; `where` names it in findings (e.g. the GGUF key).
 * Benign templates of real models produce no finding at or above LOW. */
WW_NODISCARD ww_status wwi_template_scan(wwi_scan *s, const char *text, size_t len,
                                         const char *where);
#endif
