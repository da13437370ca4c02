#ifndef DSM_COPENSSL_SHIM_H
#define DSM_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/crypto.h>
#endif
