/* image: libvips behind image_transform (see the header). */
#include "core/image.h"

#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

#include "util/log.h"

#define IMAGE_DEFAULT_QUALITY 80

int image_init(const char *argv0, bs_err *err)
{
    if (VIPS_INIT(argv0 ? argv0 : "basalt")) return bs_err_set(err, 500, "common/internal-error", "libvips did not start");
    vips_cache_set_max(0);     /* no operation cache: memory stays bounded by the requests in flight */
    vips_concurrency_set(1);   /* one thread per transform: the HTTP workers are the parallelism */
    return 0;
}

void image_shutdown(void) { vips_shutdown(); }

static int vips_failed(const char *what, bs_err *err)
{
    log_warn("image: %s: %s", what, vips_error_buffer());
    vips_error_clear();
    return bs_err_set(err, 400, "file/invalid-format", "This file is not an image that can be transformed");
}

/* The output format: the one asked for, else WebP for clients that take it, else the input's kind. */
static imageops_format output_format(const imageops *ops, const char *loader, int accept_webp)
{
    if (ops->format != IMAGEOPS_AUTO) return ops->format;
    if (accept_webp) return IMAGEOPS_WEBP;
    if (loader && strstr(loader, "Png")) return IMAGEOPS_PNG;
    if (loader && strstr(loader, "Gif")) return IMAGEOPS_PNG;
    if (loader && strstr(loader, "Webp")) return IMAGEOPS_WEBP;
    return IMAGEOPS_JPEG;
}

/* Header only: the loader's name and the pixel count, refused past max_pixels. */
static int inspect(VipsSource *src, uint64_t max_pixels, const char **loader, bs_err *err)
{
    *loader = vips_foreign_find_load_source(src);
    if (!*loader) return vips_failed("no loader", err);
    VipsImage *head = vips_image_new_from_source(src, "", NULL);
    if (!head) return vips_failed("header", err);
    uint64_t pixels = (uint64_t)vips_image_get_width(head) * (uint64_t)vips_image_get_height(head);
    g_object_unref(head);
    if (pixels > max_pixels)
        return bs_err_set(err, 400, "file/file-too-large", "The image has %llu pixels; at most %llu are transformed",
                          (unsigned long long)pixels, (unsigned long long)max_pixels);
    return vips_source_rewind(src) == 0 ? 0 : vips_failed("rewind", err);
}

static VipsImage *resized(VipsSource *src, const imageops *ops, bs_err *err)
{
    VipsImage *img = NULL;
    int rc;
    if (ops->mode == IMAGEOPS_NONE) {
        img = vips_image_new_from_source(src, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL);
        rc = img ? 0 : -1;
    } else {
        int w = ops->width ? ops->width : VIPS_MAX_COORD, h = ops->height ? ops->height : VIPS_MAX_COORD;
        VipsInteresting crop = ops->mode == IMAGEOPS_SMART ? VIPS_INTERESTING_ATTENTION
                             : ops->mode == IMAGEOPS_CROP  ? VIPS_INTERESTING_CENTRE : VIPS_INTERESTING_NONE;
        rc = vips_thumbnail_source(src, &img, w, "height", h, "crop", crop, "size", VIPS_SIZE_DOWN, NULL);
    }
    if (rc < 0) vips_failed("resize", err);
    return rc < 0 ? NULL : img;
}

/* Applies blur and, for JPEG, flattens transparency onto white. Takes img; returns the result. */
static VipsImage *finish(VipsImage *img, const imageops *ops, imageops_format fmt, bs_err *err)
{
    VipsImage *t = NULL;
    if (ops->blur > 0) {
        int rc = vips_gaussblur(img, &t, ops->blur, NULL);
        g_object_unref(img);
        if (rc < 0) {
            vips_failed("blur", err);
            return NULL;
        }
        img = t;
    }
    if (fmt == IMAGEOPS_JPEG && vips_image_hasalpha(img)) {
        VipsArrayDouble *white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
        int rc = vips_flatten(img, &t, "background", white, NULL);
        vips_area_unref(VIPS_AREA(white));
        g_object_unref(img);
        if (rc < 0) {
            vips_failed("flatten", err);
            return NULL;
        }
        img = t;
    }
    return img;
}

static int save(VipsImage *img, imageops_format fmt, int quality, strbuf *out, const char **mime, bs_err *err)
{
    void *buf = NULL;
    size_t len = 0;
    int rc;
    if (fmt == IMAGEOPS_WEBP) rc = vips_webpsave_buffer(img, &buf, &len, "Q", quality, "strip", TRUE, NULL);
    else if (fmt == IMAGEOPS_PNG) rc = vips_pngsave_buffer(img, &buf, &len, "compression", 6, "strip", TRUE, NULL);
    else rc = vips_jpegsave_buffer(img, &buf, &len, "Q", quality, "strip", TRUE, "optimize_coding", TRUE, NULL);
    if (rc < 0) return vips_failed("save", err);
    *mime = fmt == IMAGEOPS_WEBP ? "image/webp" : fmt == IMAGEOPS_PNG ? "image/png" : "image/jpeg";
    rc = strbuf_append(out, buf, len) == 0 ? 0 : bs_err_internal(err);
    g_free(buf);
    return rc;
}

int image_transform(int fd, const imageops *ops, int accept_webp, uint64_t max_pixels, strbuf *out, const char **mime,
                    bs_err *err)
{
    if (lseek(fd, 0, SEEK_SET) < 0) return bs_err_internal(err);
    VipsSource *src = vips_source_new_from_descriptor(fd);
    if (!src) return vips_failed("source", err);
    const char *loader = NULL;
    int rc = inspect(src, max_pixels, &loader, err);
    imageops_format fmt = output_format(ops, loader, accept_webp);
    VipsImage *img = rc == 0 ? resized(src, ops, err) : NULL;
    if (img) img = finish(img, ops, fmt, err);
    if (img) rc = save(img, fmt, ops->quality ? ops->quality : IMAGE_DEFAULT_QUALITY, out, mime, err);
    else rc = -1;
    if (img) g_object_unref(img);
    g_object_unref(src);
    return rc;
}
