/*
 * Privilege handling shared by ternd and tern; see privs.h.
 */
#include "core/privs.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int privs_service_user(const char *config_path, const char *user, const struct passwd **pw_r)
{
	*pw_r = NULL;
	if (geteuid() != 0)
		return 0;
	if (user[0] == '\0' || strcmp(user, "root") == 0) {
		log_error("%s: [server] user must name an unprivileged user to run as", config_path);
		return -1;
	}
	*pw_r = getpwnam(user);
	if (*pw_r == NULL) {
		log_error("%s: [server] user %s does not exist (create it: useradd --system %s)",
			  config_path, user, user);
		return -1;
	}
	return 0;
}

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (lchown(path, chown_uid, chown_gid) < 0)
		log_warn("cannot chown %s: %s", path, strerror(errno));
	return 0;
}

int privs_prepare_dir(const char *dir, const struct passwd *pw)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_error("cannot create data_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (pw == NULL || stat(dir, &st) < 0 || st.st_uid == pw->pw_uid)
		return 0;
	log_info("data_dir=%s chown_to=%s", dir, pw->pw_name);
	chown_uid = pw->pw_uid;
	chown_gid = pw->pw_gid;
	return nftw(dir, chown_one, 32, FTW_PHYS) == 0 ? 0 : -1;
}

int privs_drop(const struct passwd *pw)
{
	if (pw == NULL)
		return 0;
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_error("cannot drop privileges to %s: %s", pw->pw_name, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0)
		fatal("privileges could be regained after dropping them");
	return 0;
}
