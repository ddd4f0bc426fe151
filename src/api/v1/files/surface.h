/* The files surface: the /storage target of signed URLs, /v1/files (with multipart uploads), user avatars
 * and image variants (/img). Registered by api/register.c. */
#ifndef BASALT_API_V1_FILES_SURFACE_H
#define BASALT_API_V1_FILES_SURFACE_H

#include "api/route.h"

int api_storage_register(http_router *router, api_app *app);
int api_files_register(http_router *router, api_app *app);
int api_multipart_register(http_router *router, api_app *app);
int api_avatars_register(http_router *router, api_app *app);
int api_images_register(http_router *router, api_app *app);

#endif
