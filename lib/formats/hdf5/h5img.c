/* libhdf5 glue. libhdf5 is a large C parser of a complex format; we use it
 * only to open the file image and read root attributes (no datasets, no
 * filters, no traversal, so no plugin loading or external links). Rules:
 *  - the image is handed over with no copy: our callbacks give libhdf5 the
 *    caller's (possibly read-only mmapped) bytes, and the file is opened
 *    read-only, so libhdf5 never writes to them;
 *  - the file name passed to H5Fopen can never exist ("/dev/null/..."), so
 *    the core driver's existence probe touches nothing;
 *  - automatic error printing and filter plugin loading are switched off;
 *  - every call runs under one mutex (Debian's build is not thread safe). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <hdf5.h>
#include "formats/hdf5/h5img.h"
#include "util/alloc.h"

static pthread_mutex_t h5_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct image {
    const uint8_t *p;
    size_t n;
} image;

/* Every "allocation" of the image is the image itself ... */
static void *img_malloc(size_t size, H5FD_file_image_op_t op, void *udata)
{
    const image *im = udata;
    (void)op;
    return size == im->n ? (void *)(uintptr_t)im->p : NULL;
}

/* ... so every copy is onto itself; anything else is refused. */
static void *img_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op,
                        void *udata)
{
    const image *im = udata;
    (void)op;
    if (dest != (const void *)im->p || src != (const void *)im->p || size != im->n)
        return NULL;
    return dest;
}

static void *img_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata)
{
    (void)ptr, (void)size, (void)op, (void)udata;
    return NULL; /* read-only: the image never grows */
}

static herr_t img_free(void *ptr, H5FD_file_image_op_t op, void *udata)
{
    (void)ptr, (void)op, (void)udata;
    return 0; /* the caller owns the bytes */
}

static void *img_udata_copy(void *udata)
{
    return udata;
}

static herr_t img_udata_free(void *udata)
{
    (void)udata;
    return 0;
}

static void set_msg(wwi_h5_attr *a, ww_status st, const char *msg)
{
    a->st = st;
    snprintf(a->msg, sizeof a->msg, "root attribute '%s': %s", a->name, msg);
}

/* Strip what h5py strips: trailing NULs (NULLTERM/NULLPAD) or spaces. */
static size_t fixed_len(const char *buf, size_t size, H5T_str_t pad)
{
    size_t n = size;
    char fill = pad == H5T_STR_SPACEPAD ? ' ' : '\0';
    if (pad == H5T_STR_NULLTERM) {
        const char *nul = memchr(buf, '\0', size);
        return nul ? (size_t)(nul - buf) : size;
    }
    while (n > 0 && buf[n - 1] == fill)
        n--;
    return n;
}

static void read_attr(hid_t root, wwi_h5_attr *a, uint64_t max_len)
{
    hid_t attr = H5I_INVALID_HID, ftype = H5I_INVALID_HID, space = H5I_INVALID_HID;
    hid_t mtype = H5I_INVALID_HID;
    char *vbuf = NULL;

    htri_t ex = H5Aexists(root, a->name);
    if (ex < 0) {
        set_msg(a, WW_E_FORMAT, "cannot be looked up");
        return;
    }
    if (ex == 0)
        return;
    a->present = true;
    attr = H5Aopen(root, a->name, H5P_DEFAULT);
    ftype = attr < 0 ? H5I_INVALID_HID : H5Aget_type(attr);
    space = attr < 0 ? H5I_INVALID_HID : H5Aget_space(attr);
    if (attr < 0 || ftype < 0 || space < 0) {
        set_msg(a, WW_E_FORMAT, "cannot be opened");
        goto done;
    }
    if (H5Tget_class(ftype) != H5T_STRING) {
        set_msg(a, WW_E_FORMAT, "is not a string");
        goto done;
    }
    if (H5Sget_simple_extent_npoints(space) != 1) {
        set_msg(a, WW_E_FORMAT, "is not a single string");
        goto done;
    }
    htri_t var = H5Tis_variable_str(ftype);
    if (var < 0) {
        set_msg(a, WW_E_FORMAT, "has an unreadable string type");
        goto done;
    }
    if (var) {
        mtype = H5Tcopy(H5T_C_S1);
        if (mtype < 0 || H5Tset_size(mtype, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mtype, H5Tget_cset(ftype)) < 0 || H5Aread(attr, mtype, &vbuf) < 0) {
            set_msg(a, WW_E_FORMAT, "cannot be read");
            goto done;
        }
        if (!vbuf) {
            set_msg(a, WW_E_FORMAT, "is a null string");
            goto done;
        }
        size_t n = strlen(vbuf);
        if (n > max_len) {
            set_msg(a, WW_E_LIMIT, "longer than max_header_bytes");
            goto done;
        }
        a->text = wwi_strndup(vbuf, n);
        a->len = n;
    } else {
        size_t size = H5Tget_size(ftype);
        if (size == 0 || size > max_len) {
            set_msg(a, size ? WW_E_LIMIT : WW_E_FORMAT,
                    size ? "longer than max_header_bytes" : "has size 0");
            goto done;
        }
        a->text = wwi_malloc(size + 1);
        mtype = H5Tcopy(ftype);
        if (!a->text) {
            set_msg(a, WW_E_NOMEM, "out of memory");
            goto done;
        }
        if (mtype < 0 || H5Aread(attr, mtype, a->text) < 0) {
            set_msg(a, WW_E_FORMAT, "cannot be read");
            WW_FREE_NULL(a->text);
            goto done;
        }
        a->len = fixed_len(a->text, size, H5Tget_strpad(ftype));
        a->text[a->len] = '\0';
    }
    if (!a->text)
        set_msg(a, WW_E_NOMEM, "out of memory");
done:
    if (vbuf)
        H5free_memory(vbuf);
    if (mtype >= 0)
        H5Tclose(mtype);
    if (space >= 0)
        H5Sclose(space);
    if (ftype >= 0)
        H5Tclose(ftype);
    if (attr >= 0)
        H5Aclose(attr);
}

static herr_t count_attr(hid_t loc, const char *name, const H5A_info_t *info, void *udata)
{
    (void)loc, (void)name, (void)info;
    (*(size_t *)udata)++;
    return 0;
}

ww_status wwi_h5_read_root_attrs(const uint8_t *img, size_t len, wwi_h5_attr *attrs,
                                 size_t nattrs, uint64_t max_len, char *err, size_t errlen)
{
    ww_status rc = WW_OK;
    hid_t fapl = H5I_INVALID_HID, file = H5I_INVALID_HID, root = H5I_INVALID_HID;
    image im = {img, len};
    H5FD_file_image_callbacks_t cb = {img_malloc, img_memcpy, img_realloc, img_free,
                                      img_udata_copy, img_udata_free, &im};
    char name[64];

    for (size_t i = 0; i < nattrs; i++) {
        attrs[i].present = false;
        attrs[i].st = WW_OK;
        attrs[i].text = NULL;
        attrs[i].len = 0;
        attrs[i].msg[0] = '\0';
    }
    if (len == 0) {
        snprintf(err, errlen, "empty HDF5 image");
        return WW_E_FORMAT;
    }
    pthread_mutex_lock(&h5_lock);
    /* Silence libhdf5 (it prints its error stack by default) and keep it from
     * loading filter plugins named by files. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    H5PLset_loading_state(0);

    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 64 * 1024, 0) < 0 ||
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
        H5Pset_file_image_callbacks(fapl, &cb) < 0 ||
        H5Pset_file_image(fapl, (void *)(uintptr_t)img, len) < 0) {
        snprintf(err, errlen, "libhdf5 could not set up a file image of %zu bytes", len);
        rc = WW_E_FORMAT;
        goto done;
    }
    /* A name that can never be opened (a path through /dev/null): the core
     * driver checks that no such file exists when it opens an image. */
    snprintf(name, sizeof name, "/dev/null/weightwall-image-%p", (const void *)img);
    file = H5Fopen(name, H5F_ACC_RDONLY, fapl);
    if (file < 0) {
        snprintf(err, errlen, "libhdf5 cannot open the file (malformed or unsupported HDF5)");
        rc = WW_E_FORMAT;
        goto done;
    }
    root = H5Gopen2(file, "/", H5P_DEFAULT);
    if (root < 0) {
        snprintf(err, errlen, "libhdf5 cannot open the root group");
        rc = WW_E_FORMAT;
        goto done;
    }
    /* Every root attribute must decode: a damaged attribute list could hide
     * model_config from a lookup by name while Keras' h5py still finds it. */
    size_t count = 0;
    hsize_t pos = 0;
    if (H5Aiterate2(root, H5_INDEX_NAME, H5_ITER_NATIVE, &pos, count_attr, &count) < 0) {
        snprintf(err, errlen, "libhdf5 cannot list the root group's attributes (malformed)");
        rc = WW_E_FORMAT;
        goto done;
    }
    for (size_t i = 0; i < nattrs; i++)
        read_attr(root, &attrs[i], max_len);
done:
    if (root >= 0)
        H5Gclose(root);
    if (file >= 0 && H5Fclose(file) < 0 && rc == WW_OK) {
        snprintf(err, errlen, "libhdf5 failed to close the file");
        rc = WW_E_FORMAT;
    }
    if (fapl >= 0)
        H5Pclose(fapl);
    pthread_mutex_unlock(&h5_lock);
    return rc;
}
