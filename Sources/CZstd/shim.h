#ifndef DSM_CZSTD_SHIM_H
#define DSM_CZSTD_SHIM_H
#include <zstd.h>
#endif
