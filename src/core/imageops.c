/* imageops: parser of the image URL grammar (see the header). */
#include "core/imageops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(bs_err *err, const char *what) { return bs_err_set(err, 400, "common/invalid-parameters", "image operations: %s", what); }

/* "{w}x{h}" with each side 0..IMAGEOPS_MAX_SIDE; 1 when seg is one, 0 when not, -1 when out of range. */
static int size_segment(const char *seg, size_t len, int *w, int *h)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf) return 0;
    memcpy(buf, seg, len);
    buf[len] = '\0';
    char *x = strchr(buf, 'x'), *end;
    if (!x || x == buf || !x[1]) return 0;
    for (char *p = buf; *p; p++)
        if (p != x && (*p < '0' || *p > '9')) return 0;
    long a = strtol(buf, &end, 10), b = strtol(x + 1, &end, 10);
    if (a > IMAGEOPS_MAX_SIDE || b > IMAGEOPS_MAX_SIDE) return -1;
    *w = (int)a;
    *h = (int)b;
    return 1;
}

/* One filter "name(arg)" of a filters: segment. */
static int filter(const char *f, size_t len, imageops *ops, bs_err *err)
{
    char name[16], arg[16];
    const char *open = memchr(f, '(', len);
    if (!open || f[len - 1] != ')' || (size_t)(open - f) >= sizeof name || (size_t)(f + len - 1 - (open + 1)) >= sizeof arg)
        return bad(err, "filters are name(value)");
    snprintf(name, sizeof name, "%.*s", (int)(open - f), f);
    snprintf(arg, sizeof arg, "%.*s", (int)(f + len - 1 - (open + 1)), open + 1);
    char *end;
    if (!strcmp(name, "quality")) {
        long q = strtol(arg, &end, 10);
        if (*end || !arg[0] || q < 1 || q > 100) return bad(err, "quality(1-100)");
        ops->quality = (int)q;
    } else if (!strcmp(name, "format")) {
        if (!strcmp(arg, "webp")) ops->format = IMAGEOPS_WEBP;
        else if (!strcmp(arg, "jpeg") || !strcmp(arg, "jpg")) ops->format = IMAGEOPS_JPEG;
        else if (!strcmp(arg, "png")) ops->format = IMAGEOPS_PNG;
        else return bad(err, "format(webp|jpeg|png)");
    } else if (!strcmp(name, "blur")) {
        double r = strtod(arg, &end);
        if (*end || !arg[0] || r < 0.1 || r > 50) return bad(err, "blur(0.1-50)");
        ops->blur = r;
    } else {
        return bad(err, "unknown filter (quality, format, blur)");
    }
    return 0;
}

static int filters(const char *seg, size_t len, imageops *ops, bs_err *err)
{
    const char *p = seg + 8, *end = seg + len; /* after "filters:" */
    while (p < end) {
        const char *close = memchr(p, ')', (size_t)(end - p));
        if (!close) return bad(err, "filters are name(value)");
        if (filter(p, (size_t)(close + 1 - p), ops, err) < 0) return -1;
        p = close + 1;
        if (p < end && *p++ != ':') return bad(err, "filters are joined with ':'");
    }
    return 0;
}

int imageops_parse(const char *path, imageops *out, bs_err *err)
{
    memset(out, 0, sizeof *out);
    const char *p = path;
    int fit = 0, sized = 0, smart = 0, filtered = 0;
    while (*p) {
        size_t len = strcspn(p, "/");
        if (!p[len]) break; /* the last segment is always part of the key */
        int w = 0, h = 0, s = 0;
        if (len == 6 && !strncmp(p, "fit-in", 6) && !fit && !sized) fit = 1;
        else if (!sized && (s = size_segment(p, len, &w, &h)) != 0) {
            if (s < 0) return bad(err, "width and height up to 4096");
            sized = 1;
            out->width = w;
            out->height = h;
        } else if (len == 5 && !strncmp(p, "smart", 5) && sized && !smart && !filtered) smart = 1;
        else if (len > 8 && !strncmp(p, "filters:", 8) && !filtered) {
            if (filters(p, len, out, err) < 0) return -1;
            filtered = 1;
        } else break;
        p += len + 1;
    }
    if (fit && !sized) return bad(err, "fit-in needs {w}x{h}");
    if (sized && !fit && (out->width == 0 || out->height == 0)) return bad(err, "a crop needs both width and height");
    out->mode = fit ? IMAGEOPS_FIT : smart ? IMAGEOPS_SMART : sized ? IMAGEOPS_CROP : IMAGEOPS_NONE;
    if (fit && smart) return bad(err, "smart crops, fit-in fits: choose one");
    out->key = p;
    if (!*p) return bad(err, "no file key");
    return 0;
}

void imageops_canonical(const imageops *ops, char *out, size_t size)
{
    static const char *const modes[] = {"none", "fit", "crop", "smart"}, *const formats[] = {"auto", "webp", "jpeg", "png"};
    snprintf(out, size, "%s:%dx%d:q%d:%s:b%.2f", modes[ops->mode], ops->width, ops->height, ops->quality, formats[ops->format],
             ops->blur);
}
