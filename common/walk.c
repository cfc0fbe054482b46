/* Expanding command-line paths into the list of files to scan. Directories are
 * walked recursively with an explicit stack (no recursion); symlinks to files
 * are followed, and each underlying file (dev, inode) is listed once, which is
 * what a Hugging Face cache needs (snapshots/ link to blobs/). Nothing is
 * skipped by name: T-DIR-FILTER. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "common/wwx.h"

static int push(wwx_inputs *in, const char *path);

typedef struct seen_id {
    dev_t dev;
    ino_t ino;
} seen_id;

bool wwx_mark_seen(wwx_inputs *in, const struct stat *st);
/* Open-addressing hash set of (dev, inode): a million-file tree stays linear. */
static size_t slot_of(const seen_id *id, size_t cap)
{
    uint64_t h = (uint64_t)id->ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)id->dev;
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

bool wwx_mark_seen(wwx_inputs *in, const struct stat *st)
{
    seen_id id = {st->st_dev, st->st_ino};
    if ((in->nseen + 1) * 2 > in->capseen) {
        size_t nc = in->capseen ? in->capseen * 2 : 1024;
        seen_id *tab = calloc(nc, sizeof(seen_id));
        if (!tab)
            return true; /* scanning a file twice beats skipping it */
        seen_id *old = in->seen;
        for (size_t i = 0; i < in->capseen; i++)
            if (old[i].ino != 0 || old[i].dev != 0) {
                size_t k = slot_of(&old[i], nc);
                while (tab[k].ino != 0 || tab[k].dev != 0)
                    k = (k + 1) & (nc - 1);
                tab[k] = old[i];
            }
        free(old);
        in->seen = tab;
        in->capseen = nc;
    }
    seen_id *tab = in->seen;
    size_t k = slot_of(&id, in->capseen);
    while (tab[k].ino != 0 || tab[k].dev != 0) {
        if (tab[k].ino == id.ino && tab[k].dev == id.dev)
            return false;
        k = (k + 1) & (in->capseen - 1);
    }
    tab[k] = id;
    in->nseen++;
    return true;
}

wwx_input *wwx_inputs_push(wwx_inputs *in, const char *path, wwx_input_kind kind)
{
    if (push(in, path) != 0)
        return NULL;
    in->items[in->n - 1].kind = kind;
    return &in->items[in->n - 1];
}

static int push(wwx_inputs *in, const char *path)
{
    if (in->n == in->cap) {
        size_t nc = in->cap ? in->cap * 2 : 64;
        void *p = realloc(in->items, nc * sizeof(wwx_input));
        if (!p)
            return -1;
        in->items = p;
        in->cap = nc;
    }
    char *d = strdup(path);
    if (!d)
        return -1;
    memset(&in->items[in->n], 0, sizeof(wwx_input));
    in->items[in->n].path = d;
    in->items[in->n].display = d;
    in->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk a directory breadth-first with a work list; entries sorted for stable output. */
static int walk_dir(wwx_inputs *in, const char *root, char *err, size_t errlen)
{
    char **todo = NULL;
    size_t ntodo = 0, captodo = 0, head = 0;
    int rc = 0;
    char *r0 = strdup(root);
    if (!r0)
        return -1;
    todo = malloc(sizeof(char *) * 16);
    if (!todo) {
        free(r0);
        return -1;
    }
    captodo = 16;
    todo[ntodo++] = r0;
    while (head < ntodo) {
        char *dir = todo[head++];
        DIR *d = opendir(dir);
        if (!d) {
            snprintf(err, errlen, "%s: cannot read directory: %s", dir, strerror(errno));
            rc = -1;
            continue;
        }
        char **names = NULL;
        size_t nn = 0, capn = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            if (nn == capn) {
                capn = capn ? capn * 2 : 32;
                char **p = realloc(names, capn * sizeof(char *));
                if (!p)
                    break;
                names = p;
            }
            size_t len = strlen(dir) + strlen(de->d_name) + 2;
            names[nn] = malloc(len);
            if (!names[nn])
                break;
            snprintf(names[nn], len, "%s%s%s", dir,
                     dir[strlen(dir) - 1] == '/' ? "" : "/", de->d_name);
            nn++;
        }
        closedir(d);
        qsort(names, nn, sizeof(char *), cmp_str);
        for (size_t i = 0; i < nn; i++) {
            struct stat st;
            if (stat(names[i], &st) != 0) {
                /* A dangling link is listed so the scan reports it (never silently skipped). */
                push(in, names[i]);
                free(names[i]);
                continue;
            }
            if (S_ISDIR(st.st_mode)) {
                struct stat lst;
                /* Do not follow directory symlinks: loops. */
                if (lstat(names[i], &lst) == 0 && S_ISLNK(lst.st_mode)) {
                    free(names[i]);
                    continue;
                }
                if (ntodo == captodo) {
                    captodo *= 2;
                    char **p = realloc(todo, captodo * sizeof(char *));
                    if (!p) {
                        free(names[i]);
                        continue;
                    }
                    todo = p;
                }
                todo[ntodo++] = names[i];
                continue;
            }
            if (S_ISREG(st.st_mode) && wwx_mark_seen(in, &st))
                push(in, names[i]);
            free(names[i]);
        }
        free(names);
    }
    for (size_t i = 0; i < ntodo; i++)
        free(todo[i]);
    free(todo);
    return rc;
}

int wwx_inputs_add(wwx_inputs *in, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (strcmp(path, "-") == 0)
        return wwx_inputs_push(in, path, WWX_IN_STDIN) ? 0 : -1;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return walk_dir(in, path, err, errlen);
    if (!wwx_mark_seen(in, &st))
        return 0;
    return push(in, path);
}

void wwx_inputs_free(wwx_inputs *in)
{
    for (size_t i = 0; i < in->n; i++) {
        wwx_input *it = &in->items[i];
        if (it->display != it->path)
            free(it->display);
        free(it->path);
        free(it->repo);
        free(it->repo_type);
        free(it->revision);
        free(it->commit);
        free(it->refs);
        free(it->blob);
    }
    free(in->items);
    free(in->seen);
    memset(in, 0, sizeof *in);
}
