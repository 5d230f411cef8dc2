/* promex version numbers. The ABI is not yet stable (0.x): any minor release may break it. */
#ifndef PROMEX_VERSION_H
#define PROMEX_VERSION_H

#define PMX_VERSION_MAJOR 0
#define PMX_VERSION_MINOR 1
#define PMX_VERSION_PATCH 0
#define PMX_VERSION_STRING "0.1.0"
/* 0xMMmmpp: compare with pmx_version_num() to catch a header/library mismatch. */
#define PMX_VERSION_NUM ((PMX_VERSION_MAJOR << 16) | (PMX_VERSION_MINOR << 8) | PMX_VERSION_PATCH)

#endif
