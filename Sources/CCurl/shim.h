#ifndef DSM_CCURL_SHIM_H
#define DSM_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call.
   One typed wrapper per argument kind; each names the function it wraps. */

/* curl_easy_setopt(handle, option, long) */
static inline CURLcode dsm_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
/* curl_easy_setopt(handle, option, curl_off_t) */
static inline CURLcode dsm_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
/* curl_easy_setopt(handle, option, const char *) */
static inline CURLcode dsm_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
/* curl_easy_setopt(handle, option, void *) for CURLOPT_WRITEDATA, CURLOPT_HEADERDATA, CURLOPT_XFERINFODATA, CURLOPT_HTTPHEADER */
static inline CURLcode dsm_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }

typedef size_t (*dsm_curl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*dsm_curl_xferinfo_cb)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

/* curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION | CURLOPT_HEADERFUNCTION, callback) */
static inline CURLcode dsm_curl_setopt_data_cb(CURL *h, CURLoption o, dsm_curl_data_cb cb) { return curl_easy_setopt(h, o, cb); }
/* curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback) */
static inline CURLcode dsm_curl_setopt_xferinfo_cb(CURL *h, CURLoption o, dsm_curl_xferinfo_cb cb) { return curl_easy_setopt(h, o, cb); }

/* curl_easy_getinfo(handle, info, long *) */
static inline CURLcode dsm_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
/* curl_easy_getinfo(handle, info, char **) */
static inline CURLcode dsm_curl_getinfo_string(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
/* curl_easy_getinfo(handle, info, curl_off_t *) */
static inline CURLcode dsm_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }

#endif
