/* image: image variants with libvips (client-api.md §4.9): resize (fit or cover-crop, centre or the most
 * interesting area), blur, output format and quality, metadata stripped. The input's size is read from
 * its header first, so a decompression bomb is refused before any pixel is decoded; input that is not an
 * image is refused too. Never enlarges. Output is built in memory (at most 4096×4096 pixels).
 * Thread-safe after image_init; call image_init once before threads start, image_shutdown at exit. */
#ifndef BASALT_CORE_IMAGE_H
#define BASALT_CORE_IMAGE_H

#include <stdint.h>

#include "core/imageops.h"
#include "util/err.h"
#include "util/strbuf.h"

int image_init(const char *argv0, bs_err *err);
void image_shutdown(void);

/* Transforms the image readable from fd (borrowed; read from its start) per ops into out, and names its
 * media type in *mime. accept_webp: the client takes WebP (used when ops picks no format). Refusals:
 * 400 file/invalid-format (not an image we read), 400 file/file-too-large (more than max_pixels). */
int image_transform(int fd, const imageops *ops, int accept_webp, uint64_t max_pixels, strbuf *out, const char **mime,
                    bs_err *err);

#endif
