/*
 * Running as the service user. ternd and tern both start as root on a
 * real server; before they touch the store they give data_dir to the
 * configured user and become that user, so every file the store creates
 * (tern.db, its -wal and -shm, blobs) belongs to one unprivileged user.
 */
#ifndef TERN_CORE_PRIVS_H
#define TERN_CORE_PRIVS_H

#include <pwd.h>

/* The user to become: *pw_r is NULL when not running as root. Returns -1
 * (after logging) if root was asked to stay root or the user is unknown. */
int privs_service_user(const char *config_path, const char *user, const struct passwd **pw_r);
/* Creates dir (0700) if missing and, when pw is set and dir belongs to
 * someone else, gives dir and its contents to pw. */
int privs_prepare_dir(const char *dir, const struct passwd *pw);
/* setgroups, setgid, setuid to pw (no-op when pw is NULL), verified. */
int privs_drop(const struct passwd *pw);

#endif
