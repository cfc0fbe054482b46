/* Template analysis: real-model chat templates stay clean, SSTI payloads are
 * rated by reach, templates that do not parse fail closed. Fixtures are
 * generated from tests/formats/fixtures_fmtA.py (same texts as the e2e tests). */
#include <string.h>
#include "check.h"
#include "weightwall.h"

static const char *const benign[][2] = {
    {"llama2",
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"},
    {"llama3",
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"},
    {"llama31_tools",
    "{{- bos_token }}\n"
    "{%- if custom_tools is defined %}\n"
    "    {%- set tools = custom_tools %}\n"
    "{%- endif %}\n"
    "{%- if not tools_in_user_message is defined %}\n"
    "    {%- set tools_in_user_message = true %}\n"
    "{%- endif %}\n"
    "{%- if not date_string is defined %}\n"
    "    {%- if strftime_now is defined %}\n"
    "        {%- set date_string = strftime_now(\"%d %b %Y\") %}\n"
    "    {%- else %}\n"
    "        {%- set date_string = \"26 Jul 2024\" %}\n"
    "    {%- endif %}\n"
    "{%- endif %}\n"
    "{%- if not tools is defined %}\n"
    "    {%- set tools = none %}\n"
    "{%- endif %}\n"
    "{#- This block extracts the system message, so we can slot it into the right place. #}\n"
    "{%- if messages[0]['role'] == 'system' %}\n"
    "    {%- set system_message = messages[0]['content']|trim %}\n"
    "    {%- set messages = messages[1:] %}\n"
    "{%- else %}\n"
    "    {%- set system_message = \"\" %}\n"
    "{%- endif %}\n"
    "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n"
    "{%- if builtin_tools is defined or tools is not none %}\n"
    "    {{- \"Environment: ipython\\n\" }}\n"
    "{%- endif %}\n"
    "{%- if builtin_tools is defined %}\n"
    "    {{- \"Tools: \" + builtin_tools | reject('equalto', 'code_interpreter') | join(\", \") + \"\\n\\n\"}}\n"
    "{%- endif %}\n"
    "{{- \"Cutting Knowledge Date: December 2023\\n\" }}\n"
    "{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n"
    "{%- if tools is not none and not tools_in_user_message %}\n"
    "    {{- \"You have access to the following functions. To call a function, please respond with JSON for a function call.\" }}\n"
    "    {{- 'Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}.' }}\n"
    "    {{- \"Do not use variables.\\n\\n\" }}\n"
    "    {%- for t in tools %}\n"
    "        {{- t | tojson(indent=4) }}\n"
    "        {{- \"\\n\\n\" }}\n"
    "    {%- endfor %}\n"
    "{%- endif %}\n"
    "{{- system_message }}\n"
    "{{- \"<|eot_id|>\" }}\n"
    "{%- for message in messages %}\n"
    "    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}\n"
    "        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}\n"
    "    {%- elif 'tool_calls' in message %}\n"
    "        {%- if not message.tool_calls|length == 1 %}\n"
    "            {{- raise_exception(\"This model only supports single tool-calls at once!\") }}\n"
    "        {%- endif %}\n"
    "        {%- set tool_call = message.tool_calls[0].function %}\n"
    "        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}\n"
    "            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}\n"
    "            {{- \"<|python_tag|>\" + tool_call.name + \".call(\" }}\n"
    "            {%- for arg_name, arg_val in tool_call.arguments | items %}\n"
    "                {{- arg_name + '=\"' + arg_val + '\"' }}\n"
    "                {%- if not loop.last %}\n"
    "                    {{- \", \" }}\n"
    "                {%- endif %}\n"
    "            {%- endfor %}\n"
    "            {{- \")\" }}\n"
    "        {%- else  %}\n"
    "            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}\n"
    "            {{- '{\"name\": \"' + tool_call.name + '\", ' }}\n"
    "            {{- '\"parameters\": ' }}\n"
    "            {{- tool_call.arguments | tojson }}\n"
    "            {{- \"}\" }}\n"
    "        {%- endif %}\n"
    "        {%- if builtin_tools is defined %}\n"
    "            {{- \"<|eom_id|>\" }}\n"
    "        {%- else %}\n"
    "            {{- \"<|eot_id|>\" }}\n"
    "        {%- endif %}\n"
    "    {%- elif message.role == \"tool\" or message.role == \"ipython\" %}\n"
    "        {{- \"<|start_header_id|>ipython<|end_header_id|>\\n\\n\" }}\n"
    "        {%- if message.content is mapping or message.content is iterable %}\n"
    "            {{- message.content | tojson }}\n"
    "        {%- else %}\n"
    "            {{- message.content }}\n"
    "        {%- endif %}\n"
    "        {{- \"<|eot_id|>\" }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
    "{%- endif %}\n"
    ""},
    {"chatml_qwen2",
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"qwen3_namespace",
    "{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}\n"
    "{%- for message in messages[::-1] %}\n"
    "    {%- set index = (messages|length - 1) - loop.index0 %}\n"
    "    {%- if ns.multi_step_tool and message.role == \"user\" and message.content is string and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}\n"
    "        {%- set ns.multi_step_tool = false %}\n"
    "        {%- set ns.last_query_index = index %}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- for message in messages %}\n"
    "    {%- if message.content is string %}\n"
    "        {%- set content = message.content %}\n"
    "    {%- else %}\n"
    "        {%- set content = '' %}\n"
    "    {%- endif %}\n"
    "    {%- if message.role == \"assistant\" and '</think>' in content %}\n"
    "        {%- set reasoning_content = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}\n"
    "        {%- set content = content.split('</think>')[-1].lstrip('\\n') %}\n"
    "    {%- endif %}\n"
    "    {{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>' + '\\n' }}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n"
    "    {%- if enable_thinking is defined and enable_thinking is false %}\n"
    "        {{- '<think>\\n\\n</think>\\n\\n' }}\n"
    "    {%- endif %}\n"
    "{%- endif %}\n"
    ""},
    {"mistral",
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"},
    {"gemma",
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}"},
    {"phi3",
    "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\\n' + message['content'] + '<|end|>\\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\\n' + message['content'] + '<|end|>\\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\\n' + message['content'] + '<|end|>\\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}"},
    {"zephyr",
    "{% for message in messages %}\n"
    "{% if message['role'] == 'user' %}\n"
    "{{ '<|user|>\\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'system' %}\n"
    "{{ '<|system|>\\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'assistant' %}\n"
    "{{ '<|assistant|>\\n'  + message['content'] + eos_token }}\n"
    "{% endif %}\n"
    "{% if loop.last and add_generation_prompt %}\n"
    "{{ '<|assistant|>' }}\n"
    "{% endif %}\n"
    "{% endfor %}"},
    {"deepseek",
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') %}{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<\357\275\234User\357\275\234>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is none %}{%- set ns.is_tool = false -%}{%- for tool in message['tool_calls']%}{%- if not ns.is_first %}{{'<\357\275\234Assistant\357\275\234><\357\275\234tool\342\226\201calls\342\226\201begin\357\275\234>' + tool['type'] + '<\357\275\234tool\342\226\201sep\357\275\234>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<\357\275\234tool\342\226\201call\342\226\201end\357\275\234>'}}{%- set ns.is_first = true -%}{%- else %}{{'\\n' + '<\357\275\234tool\342\226\201call\342\226\201begin\357\275\234>' + tool['type'] + '<\357\275\234tool\342\226\201sep\357\275\234>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<\357\275\234tool\342\226\201call\342\226\201end\357\275\234>'}}{%- endif %}{%- endfor %}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is not none %}{%- if ns.is_tool %}{{'<\357\275\234tool\342\226\201outputs\342\226\201end\357\275\234>' + message['content'] + '<\357\275\234end\342\226\201of\342\226\201sentence\357\275\234>'}}{%- set ns.is_tool = false -%}{%- else %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{'<\357\275\234Assistant\357\275\234>' + content + '<\357\275\234end\342\226\201of\342\226\201sentence\357\275\234>'}}{%- endif %}{%- endif %}{%- endfor %}{% if add_generation_prompt and not ns.is_tool %}{{'<\357\275\234Assistant\357\275\234>'}}{% endif %}"},
    {"smollm_generation",
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n'}}{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{% else %}{{ message['content'] + '<|im_end|>' }}{% endif %}{{ '\\n' }}{% endfor %}{% raw %}{{ not_a_block.__class__ }}{% endraw %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
    {"cycler_plain",
    "{% set rows = cycler('odd', 'even') %}{% set sep = joiner(', ') %}{% for m in messages %}{{ sep() }}{{ rows.next() }}:{{ m.content }}{% endfor %}{% for i in range(3) %}{{ i }}{% endfor %}{{ dict(a=1)['a'] }}"},
};
static const struct { const char *name, *text; ww_severity min; } malicious[] = {
    {"retr0reg", "{% for c in [].__class__.__base__.__subclasses__() %}{% if c.__name__ == 'catch_warnings' %}{{ c()._module.__builtins__['__import__']('os').system('id') }}{% endif %}{% endfor %}", WW_SEV_CRITICAL},
    {"cycler_globals", "{{ cycler.__init__.__globals__.os.popen('id').read() }}", WW_SEV_CRITICAL},
    {"set_taint", "{% set x = joiner.__init__.__globals__ %}{{ x.os.system('id') }}", WW_SEV_CRITICAL},
    {"attr_filter", "{{ ''|attr('__class__')|attr('__mro__') }}", WW_SEV_CRITICAL},
    {"concat", "{{ ()|attr('__cla' ~ 'ss__') }}", WW_SEV_CRITICAL},
    {"join", "{{ ()|attr(['__', 'class', '__']|join) }}", WW_SEV_CRITICAL},
    {"reverse", "{{ ()|attr('__ssalc__'[::-1]) }}", WW_SEV_CRITICAL},
    {"chr", "{{ ()|attr(chr(95)~chr(95)~'class'~chr(95)~chr(95)) }}", WW_SEV_CRITICAL},
    {"pct_c", "{{ ()|attr('%c%cclass%c%c' % (95, 95, 95, 95)) }}", WW_SEV_CRITICAL},
    {"hex", "{{ ()['\\x5f\\x5fclass\\x5f\\x5f'] }}", WW_SEV_CRITICAL},
    {"namespace_walk", "{{ namespace.__init__.__globals__ }}", WW_SEV_CRITICAL},
    {"lipsum", "{{ lipsum.__globals__['os'].popen('id').read() }}", WW_SEV_CRITICAL},
    {"split_set", "{% set a = '__glo' %}{% set b = a ~ 'bals__' %}{{ cycler.__init__|attr(b) }}", WW_SEV_CRITICAL},
    {"environ_only", "{{ request.environ }}", WW_SEV_HIGH},
    {"include", "{% include '/etc/passwd' %}", WW_SEV_HIGH},
    {"computed_attr", "{{ messages|attr(messages[0].content) }}", WW_SEV_MEDIUM},
};

static ww_engine *eng;

static ww_result *scan(const char *text, const char *name)
{
    ww_result *r = NULL;
    if (ww_scan_memory(eng, text, strlen(text), name, &r) != WW_OK)
        return NULL;
    return r;
}

static void dump(const char *label, ww_result *r)
{
    for (size_t i = 0; i < ww_result_finding_count(r); i++) {
        const ww_finding *f = ww_result_finding(r, i);
        fprintf(stderr, "  %s: %s %s %s\n", label, ww_severity_name(f->severity), f->name,
                f->message);
    }
    for (size_t i = 0; i < ww_result_error_count(r); i++)
        fprintf(stderr, "  %s: error %s\n", label, ww_result_error_at(r, i)->message);
}

static void test_benign(void)
{
    for (size_t i = 0; i < sizeof benign / sizeof benign[0]; i++) {
        ww_result *r = scan(benign[i][1], "chat_template.jinja");
        CHECK(r != NULL);
        if (!r)
            continue;
        bool ok = ww_result_verdict(r) == WW_VERDICT_CLEAN &&
                  ww_result_max_severity(r) == WW_SEV_NONE &&
                  strcmp(ww_result_format(r), "jinja") == 0;
        if (!ok) {
            fprintf(stderr, "benign template %s not clean (format %s)\n", benign[i][0],
                    ww_result_format(r));
            dump(benign[i][0], r);
        }
        CHECK(ok);
        CHECK(ww_result_code_capable(r));
        ww_result_free(r);
    }
}

static void test_malicious(void)
{
    for (size_t i = 0; i < sizeof malicious / sizeof malicious[0]; i++) {
        ww_result *r = scan(malicious[i].text, "chat_template.jinja");
        CHECK(r != NULL);
        if (!r)
            continue;
        bool ok = ww_result_max_severity(r) >= malicious[i].min &&
                  ww_result_verdict(r) == WW_VERDICT_UNSAFE;
        if (!ok) {
            fprintf(stderr, "malicious template %s: max %s, want %s\n", malicious[i].name,
                    ww_severity_name(ww_result_max_severity(r)),
                    ww_severity_name(malicious[i].min));
            dump(malicious[i].name, r);
        }
        CHECK(ok);
        ww_result_free(r);
    }
}

static void test_parse_errors(void)
{
    static const char *const bad[] = {
        "{{ unclosed_bracket",
        "{% for m in messages %}{{ m }}",
        "{% if x %}{% endfor %}",
        "{{ 'unterminated }}",
        "{{ (a }}",
        "{% frobnicate %}",
        "{{ }}",
        "{{ x }}{# comment",
        "{{ '\\x5' }}",
        "{% raw %}never closed",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ww_result *r = scan(bad[i], "chat_template.jinja");
        CHECK(r && ww_result_verdict(r) == WW_VERDICT_ERROR);
        if (r && ww_result_verdict(r) != WW_VERDICT_ERROR)
            fprintf(stderr, "parse error not reported for: %s\n", bad[i]);
        ww_result_free(r);
    }
    /* A payload before the broken part is still reported. */
    ww_result *r = scan("{{ cycler.__init__.__globals__ }}{{ oops", "t.j2");
    CHECK(r && ww_result_max_severity(r) == WW_SEV_CRITICAL);
    CHECK(r && ww_result_verdict(r) != WW_VERDICT_CLEAN);
    ww_result_free(r);
}

static void test_probe_and_lenient(void)
{
    /* A README with a Mustache-like placeholder: not an error, nothing found. */
    const char *readme = "# Model\nUse {{ model_name }} and {% if x %}y{% endif with care\n";
    ww_result *r = scan(readme, "README.md");
    CHECK(r && ww_result_verdict(r) == WW_VERDICT_CLEAN);
    ww_result_free(r);
    /* Plain text is not a template. */
    r = scan("hello {world}\n", "notes.txt");
    CHECK(r && ww_result_skipped(r));
    ww_result_free(r);
    /* message.class is an ordinary key, not __class__. */
    r = scan("{% for message in messages %}{% if message.class == 'x' %}{{ message.content }}"
             "{% endif %}{% endfor %}",
             "t.template");
    CHECK(r && ww_result_verdict(r) == WW_VERDICT_CLEAN);
    ww_result_free(r);
}

int main(void)
{
    if (ww_engine_new(&eng) != WW_OK)
        return 1;
    test_benign();
    test_malicious();
    test_parse_errors();
    test_probe_and_lenient();
    ww_engine_free(eng);
    return CHECK_DONE();
}
