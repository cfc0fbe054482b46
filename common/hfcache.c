/* The local Hugging Face cache, laid out as huggingface_hub lays it out:
 *   <cache>/<type>s--<org>--<name>/{blobs,refs,snapshots/<commit>/<path>}
 * Every blob reachable from a snapshot is scanned once, named by its repo and
 * revision; refs tell which branch or tag points at a revision. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include "common/wwx.h"

bool wwx_mark_seen(wwx_inputs *in, const struct stat *st);

const char *wwx_hf_cache_default(char *buf, size_t n)
{
    const char *v;
    if ((v = getenv("HF_HUB_CACHE")) && *v)
        snprintf(buf, n, "%s", v);
    else if ((v = getenv("HUGGINGFACE_HUB_CACHE")) && *v)
        snprintf(buf, n, "%s", v);
    else if ((v = getenv("HF_HOME")) && *v)
        snprintf(buf, n, "%s/hub", v);
    else if ((v = getenv("XDG_CACHE_HOME")) && *v)
        snprintf(buf, n, "%s/huggingface/hub", v);
    else
        snprintf(buf, n, "%s/.cache/huggingface/hub", getenv("HOME") ? getenv("HOME") : "");
    return buf;
}

/* refs/<name> files (names may contain '/': refs/pr/1) whose content is commit. */
static char *refs_for(const char *repo_dir, const char *commit)
{
    char *out = NULL;
    size_t outlen = 0;
    char path[PATH_MAX];
    /* Two levels are enough for "main", "v1.0" and "pr/1". */
    const char *subdirs[] = {"", "pr/"};
    for (int s = 0; s < 2; s++) {
        snprintf(path, sizeof path, "%s/refs/%s", repo_dir, subdirs[s]);
        DIR *d = opendir(path);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            char f[PATH_MAX];
            snprintf(f, sizeof f, "%s/refs/%s%s", repo_dir, subdirs[s], de->d_name);
            FILE *fp = fopen(f, "r");
            if (!fp)
                continue;
            char sha[128] = "";
            size_t got = fread(sha, 1, sizeof sha - 1, fp);
            fclose(fp);
            sha[got] = '\0';
            sha[strcspn(sha, "\r\n ")] = '\0';
            if (strcmp(sha, commit) != 0)
                continue;
            size_t add = strlen(subdirs[s]) + strlen(de->d_name) + 2;
            char *p = realloc(out, outlen + add);
            if (!p)
                break;
            out = p;
            outlen += (size_t)snprintf(out + outlen, add, "%s%s%s", outlen ? "," : "",
                                       subdirs[s], de->d_name);
        }
        closedir(d);
    }
    return out;
}

static int add_entry(wwx_inputs *in, const char *link, const char *target, const char *repo,
                     const char *type, const char *commit, const char *refs, const char *blob)
{
    wwx_input *it = wwx_inputs_push(in, target ? target : link, WWX_IN_FILE);
    if (!it)
        return -1;
    it->display = strdup(link);
    it->repo = strdup(repo);
    it->repo_type = strdup(type);
    it->revision = commit ? strdup(commit) : NULL;
    it->refs = refs ? strdup(refs) : NULL;
    it->blob = blob ? strdup(blob) : NULL;
    it->from_cache = true;
    if (!it->display)
        it->display = it->path;
    return 0;
}

/* Walk snapshots/<commit>/ with an explicit stack of directories. */
static int walk_snapshot(wwx_inputs *in, const char *snap_dir, const char *repo, const char *type,
                         const char *commit, const char *refs)
{
    char **stack = malloc(sizeof(char *) * 64);
    size_t n = 0, cap = 64;
    if (!stack)
        return -1;
    stack[n++] = strdup(snap_dir);
    while (n > 0) {
        char *dir = stack[--n];
        DIR *d = dir ? opendir(dir) : NULL;
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char p[PATH_MAX];
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            struct stat lst, st;
            if (lstat(p, &lst) != 0)
                continue;
            if (S_ISDIR(lst.st_mode)) {
                if (n == cap) {
                    char **q = realloc(stack, sizeof(char *) * cap * 2);
                    if (!q)
                        continue;
                    stack = q;
                    cap *= 2;
                }
                stack[n++] = strdup(p);
                continue;
            }
            if (stat(p, &st) != 0) {
                /* Dangling link: listed so the scan reports it. */
                add_entry(in, p, NULL, repo, type, commit, refs, NULL);
                continue;
            }
            if (!S_ISREG(st.st_mode) || !wwx_mark_seen(in, &st))
                continue;
            char real[PATH_MAX];
            const char *blob = NULL;
            if (realpath(p, real)) {
                const char *slash = strrchr(real, '/');
                blob = slash ? slash + 1 : real;
            }
            add_entry(in, p, blob ? real : NULL, repo, type, commit, refs, blob);
        }
        if (d)
            closedir(d);
        free(dir);
    }
    free(stack);
    return 0;
}

int wwx_hf_cache_add(wwx_inputs *in, const char *cache, char *err, size_t errlen)
{
    DIR *d = opendir(cache);
    if (!d) {
        snprintf(err, errlen, "%s: cannot read Hugging Face cache: %s", cache, strerror(errno));
        return -1;
    }
    struct dirent *de;
    int repos = 0;
    while ((de = readdir(d))) {
        const char *type = NULL;
        size_t skip = 0;
        if (strncmp(de->d_name, "models--", 8) == 0)
            type = "model", skip = 8;
        else if (strncmp(de->d_name, "datasets--", 10) == 0)
            type = "dataset", skip = 10;
        else if (strncmp(de->d_name, "spaces--", 8) == 0)
            type = "space", skip = 8;
        if (!type)
            continue;
        /* Repo id: "--" separates org and name. */
        char repo[512];
        const char *src = de->d_name + skip;
        size_t k = 0;
        for (size_t i = 0; src[i] && k + 1 < sizeof repo; i++) {
            if (src[i] == '-' && src[i + 1] == '-') {
                repo[k++] = '/';
                i++;
            } else {
                repo[k++] = src[i];
            }
        }
        repo[k] = '\0';
        char repo_dir[PATH_MAX], snaps[PATH_MAX];
        snprintf(repo_dir, sizeof repo_dir, "%s/%s", cache, de->d_name);
        snprintf(snaps, sizeof snaps, "%s/snapshots", repo_dir);
        repos++;
        DIR *sd = opendir(snaps);
        struct dirent *se;
        while (sd && (se = readdir(sd))) {
            if (se->d_name[0] == '.')
                continue;
            char snap[PATH_MAX];
            snprintf(snap, sizeof snap, "%s/%s", snaps, se->d_name);
            char *refs = refs_for(repo_dir, se->d_name);
            walk_snapshot(in, snap, repo, type, se->d_name, refs);
            free(refs);
        }
        if (sd)
            closedir(sd);
        /* Partial downloads are reported, not ignored. */
        char blobs[PATH_MAX];
        snprintf(blobs, sizeof blobs, "%s/blobs", repo_dir);
        DIR *bd = opendir(blobs);
        struct dirent *be;
        while (bd && (be = readdir(bd))) {
            size_t L = strlen(be->d_name);
            if (L > 11 && strcmp(be->d_name + L - 11, ".incomplete") == 0) {
                char p[PATH_MAX];
                snprintf(p, sizeof p, "%s/%s", blobs, be->d_name);
                add_entry(in, p, NULL, repo, type, NULL, NULL, be->d_name);
            }
        }
        if (bd)
            closedir(bd);
    }
    closedir(d);
    (void)repos;
    return 0;
}

int wwx_hf_blob_verify(const char *path, const char *blob)
{
    if (!blob || strlen(blob) != 64)
        return -1;
    for (int i = 0; i < 64; i++)
        if (!strchr("0123456789abcdef", blob[i]))
            return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return -1;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            EVP_MD_CTX_free(ctx);
            close(fd);
            return -1;
        }
        EVP_DigestUpdate(ctx, p, (size_t)st.st_size);
        munmap(p, (size_t)st.st_size);
    }
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    close(fd);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return strcmp(hex, blob) == 0 ? 1 : 0;
}
