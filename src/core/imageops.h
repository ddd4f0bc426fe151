/* imageops: the image URL grammar of client-api.md §4.9, parsed into what to do. A path
 *   [fit-in/]{w}x{h}/[smart/][filters:name(arg)[:name(arg)...]/]<key>
 * (segments in that order, each optional) means: fit-in = fit inside w×h keeping the aspect ratio (0 on
 * one side: from the other); {w}x{h} alone = cover and crop to exactly w×h around the centre, with
 * smart around the most interesting area; filters quality(1-100), format(webp|jpeg|png), blur(0.1-50).
 * The key starts at the first segment that is none of these. Pure; no allocation. */
#ifndef BASALT_CORE_IMAGEOPS_H
#define BASALT_CORE_IMAGEOPS_H

#include "util/err.h"

#define IMAGEOPS_MAX_SIDE 4096

typedef enum imageops_mode { IMAGEOPS_NONE = 0, IMAGEOPS_FIT, IMAGEOPS_CROP, IMAGEOPS_SMART } imageops_mode;
typedef enum imageops_format { IMAGEOPS_AUTO = 0, IMAGEOPS_WEBP, IMAGEOPS_JPEG, IMAGEOPS_PNG } imageops_format;

typedef struct imageops {
    imageops_mode mode;
    int width, height;       /* 0 = from the other side (fit-in only) */
    int quality;             /* 0 = the default (80) */
    imageops_format format;
    double blur;             /* 0 = none */
    const char *key;         /* points into the parsed path */
} imageops;

/* Parses path (without the route prefix). 0, or -1 with 400 common/invalid-parameters naming the part. */
int imageops_parse(const char *path, imageops *out, bs_err *err);
/* A canonical text of the operations (for cache keys): same operations, same text. */
void imageops_canonical(const imageops *ops, char *out, size_t size);

#endif
