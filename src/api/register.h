/* register: every route of every surface (register.c, the only file that includes every surface). */
#ifndef BASALT_API_REGISTER_H
#define BASALT_API_REGISTER_H

#include "api/route.h"

/* Registers every route of every surface. 0, or -1 when the router is full. */
int api_register(http_router *router, api_app *app);

#endif
