/* Name tables for the template analyser: which attribute, key or call names
 * tell what a Jinja template can reach. Data, not code (style guide §9). */
#ifndef WWI_TNAMES_H
#define WWI_TNAMES_H
#include "weightwall.h"

typedef struct tname {
    const char *name;
    ww_severity sev;
    const char *why;
} tname;

/* Python object-graph internals: reaching one is the first step of every
 * sandbox escape (CVE-2024-34359). Dunder-form rows also match as substrings
 * of string literals and of strings assembled from pieces. */
static const tname tn_internals[] = {
    {"__class__", WW_SEV_CRITICAL, "object type"},
    {"__base__", WW_SEV_CRITICAL, "base class"},
    {"__bases__", WW_SEV_CRITICAL, "base classes"},
    {"__mro__", WW_SEV_CRITICAL, "method resolution order"},
    {"__subclasses__", WW_SEV_CRITICAL, "every loaded class"},
    {"__globals__", WW_SEV_CRITICAL, "a function's module globals"},
    {"__builtins__", WW_SEV_CRITICAL, "Python builtins"},
    {"__import__", WW_SEV_CRITICAL, "the import machinery"},
    {"__init__", WW_SEV_CRITICAL, "a constructor (route to __globals__)"},
    {"__getattribute__", WW_SEV_CRITICAL, "raw attribute access"},
    {"__dict__", WW_SEV_CRITICAL, "an object's namespace"},
    {"__code__", WW_SEV_CRITICAL, "a code object"},
    {"__closure__", WW_SEV_CRITICAL, "closure cells"},
    {"__func__", WW_SEV_CRITICAL, "a bound method's function"},
    {"__self__", WW_SEV_CRITICAL, "a method's owner (module for builtins)"},
    {"__reduce__", WW_SEV_CRITICAL, "pickle reduction"},
    {"__reduce_ex__", WW_SEV_CRITICAL, "pickle reduction"},
    {"__loader__", WW_SEV_CRITICAL, "a module loader"},
    {"__spec__", WW_SEV_CRITICAL, "a module spec"},
    {"__new__", WW_SEV_CRITICAL, "object construction"},
    {"__subclasshook__", WW_SEV_CRITICAL, "class machinery"},
    {"__init_subclass__", WW_SEV_CRITICAL, "class machinery"},
    {"__wrapped__", WW_SEV_CRITICAL, "a wrapped function"},
    {"__defaults__", WW_SEV_CRITICAL, "function defaults"},
    {"__kwdefaults__", WW_SEV_CRITICAL, "function defaults"},
    {"_module", WW_SEV_CRITICAL, "a warnings/catch_warnings module handle"},
    {"func_globals", WW_SEV_CRITICAL, "a function's module globals"},
    {"func_code", WW_SEV_CRITICAL, "a code object"},
    {"f_globals", WW_SEV_CRITICAL, "a frame's globals"},
    {"f_locals", WW_SEV_CRITICAL, "a frame's locals"},
    {"f_builtins", WW_SEV_CRITICAL, "a frame's builtins"},
    {"f_back", WW_SEV_CRITICAL, "the calling frame"},
    {"gi_frame", WW_SEV_CRITICAL, "a generator frame"},
    {"gi_code", WW_SEV_CRITICAL, "a generator's code"},
    {"cr_frame", WW_SEV_CRITICAL, "a coroutine frame"},
    {"ag_frame", WW_SEV_CRITICAL, "an async generator frame"},
    {"tb_frame", WW_SEV_CRITICAL, "a traceback frame"},
    {"co_code", WW_SEV_CRITICAL, "bytecode"},
    {"mro", WW_SEV_CRITICAL, "method resolution order"},
};

/* Attribute (or literal subscript key) names of process, code and import
 * functions; on their own HIGH, the object walk that gets there is CRITICAL. */
static const tname tn_attrs[] = {
    {"os", WW_SEV_HIGH, "the os module"},
    {"popen", WW_SEV_HIGH, "runs a shell command"},
    {"subprocess", WW_SEV_HIGH, "the subprocess module"},
    {"eval", WW_SEV_HIGH, "evaluates Python"},
    {"exec", WW_SEV_HIGH, "executes Python"},
    {"execfile", WW_SEV_HIGH, "executes a Python file"},
    {"import_module", WW_SEV_HIGH, "imports a module"},
    {"importlib", WW_SEV_HIGH, "the import machinery"},
    {"builtins", WW_SEV_HIGH, "Python builtins"},
    {"check_output", WW_SEV_HIGH, "runs a command"},
    {"check_call", WW_SEV_HIGH, "runs a command"},
    {"Popen", WW_SEV_HIGH, "runs a command"},
    {"getoutput", WW_SEV_HIGH, "runs a command"},
    {"getstatusoutput", WW_SEV_HIGH, "runs a command"},
    {"spawnv", WW_SEV_HIGH, "runs a program"},
    {"spawnl", WW_SEV_HIGH, "runs a program"},
    {"execv", WW_SEV_HIGH, "replaces the process"},
    {"execve", WW_SEV_HIGH, "replaces the process"},
    {"execl", WW_SEV_HIGH, "replaces the process"},
    {"execvp", WW_SEV_HIGH, "replaces the process"},
    {"fork", WW_SEV_HIGH, "forks the process"},
    {"pty", WW_SEV_HIGH, "the pty module"},
    {"posix", WW_SEV_HIGH, "the posix module"},
    {"environ", WW_SEV_HIGH, "the process environment (secrets)"},
    {"getenv", WW_SEV_HIGH, "the process environment (secrets)"},
    {"putenv", WW_SEV_HIGH, "the process environment"},
    {"urlopen", WW_SEV_HIGH, "network access"},
    {"urlretrieve", WW_SEV_HIGH, "network access"},
    {"listdir", WW_SEV_HIGH, "file system access"},
    {"scandir", WW_SEV_HIGH, "file system access"},
    {"remove", WW_SEV_HIGH, "deletes files"},
    {"unlink", WW_SEV_HIGH, "deletes files"},
    {"rmtree", WW_SEV_HIGH, "deletes files"},
    {"open", WW_SEV_HIGH, "opens files"},
    {"read_text", WW_SEV_HIGH, "reads files"},
    {"write_text", WW_SEV_HIGH, "writes files"},
    {"read_bytes", WW_SEV_HIGH, "reads files"},
    {"socket", WW_SEV_HIGH, "network access"},
    /* MEDIUM: names that also occur innocently, e.g. a role called "system". */
    {"system", WW_SEV_MEDIUM, "os.system runs a shell command"},
    {"modules", WW_SEV_MEDIUM, "sys.modules reaches every loaded module"},
    {"sys", WW_SEV_MEDIUM, "the sys module"},
    {"ctypes", WW_SEV_MEDIUM, "native calls"},
    {"marshal", WW_SEV_MEDIUM, "code deserialisation"},
    {"pickle", WW_SEV_MEDIUM, "pickle deserialisation"},
    {"b64decode", WW_SEV_MEDIUM, "decodes a hidden payload"},
};

/* Bare calls: Jinja defines none of these; a template that calls them expects
 * Python's builtins in its context. */
static const tname tn_calls[] = {
    {"eval", WW_SEV_CRITICAL, "evaluates Python"},
    {"exec", WW_SEV_CRITICAL, "executes Python"},
    {"compile", WW_SEV_CRITICAL, "compiles Python"},
    {"__import__", WW_SEV_CRITICAL, "imports a module"},
    {"getattr", WW_SEV_CRITICAL, "dynamic attribute access (sandbox bypass)"},
    {"setattr", WW_SEV_CRITICAL, "dynamic attribute write"},
    {"delattr", WW_SEV_CRITICAL, "dynamic attribute delete"},
    {"globals", WW_SEV_CRITICAL, "module globals"},
    {"locals", WW_SEV_CRITICAL, "frame locals"},
    {"vars", WW_SEV_CRITICAL, "an object's namespace"},
    {"breakpoint", WW_SEV_CRITICAL, "the debugger"},
    {"open", WW_SEV_HIGH, "opens files"},
    {"input", WW_SEV_HIGH, "reads the console"},
    {"chr", WW_SEV_MEDIUM, "builds characters one by one (obfuscation)"},
};

/* Jinja/Flask globals that are the classic roots of SSTI attribute walks
 * (cycler.__init__.__globals__.os ...). Calling them is normal (namespace(),
 * range()); walking their attributes is not. */
static const char *const tn_roots[] = {
    "cycler", "joiner", "namespace", "lipsum", "range", "dict", "self", "request", "config",
    "url_for", "get_flashed_messages", "session", "g", "os", "sys", "subprocess", "builtins",
};
#endif
