#ifndef DSM_PROCESS_H
#define DSM_PROCESS_H
#include <sys/types.h>

/// Starts `argv[0]` (a path) with `envp`, stdin from /dev/null and stdout+stderr appended to `log_fd`, in its own
/// process group, and asks the kernel to send it SIGTERM when the calling thread's process dies (so a `kill -9` of
/// dsm does not leave runtimes running). Returns the pid, or -1 with errno set (exec failures are reported through
/// a pipe, so a missing binary is an error here, not a child that exits at once).
pid_t dsm_spawn(const char *const argv[], const char *const envp[], int log_fd);

#endif
