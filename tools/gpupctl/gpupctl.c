// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpupctl: manage GPU-P VFs and follow their migrations through the
 * "gpup" generic netlink family, and decode saved migration streams.
 * See gpupctl(8) and Documentation/gpup/gpupctl.rst.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/gpup_netlink.h>

#include "gpupctl.h"

#define GPUPCTL_VERSION	"1.0"

static bool json;

static const char usage_text[] =
"Usage: gpupctl [-j|--json] COMMAND [ARGS]\n"
"\n"
"Manage GPU-P virtual functions (VFs) and follow their live migration.\n"
"\n"
"Commands:\n"
"  list                  parents and their VFs: profile, VRAM, engine state,\n"
"                        run time and budget, migration state\n"
"  show VF               every attribute of a VF, with its last error;\n"
"                        VF is an id or a device name (mdev UUID)\n"
"  profiles              the partition profiles of each parent, with how many\n"
"                        more VFs of each would fit\n"
"  clear-stats VF        zero a VF's migration counters and forget its last\n"
"                        error (needs CAP_NET_ADMIN)\n"
"  monitor               one line per migration state change, progress and\n"
"                        result, until interrupted\n"
"  stream inspect FILE   decode a saved migration stream and check every\n"
"                        record; FILE - is standard input\n"
"  help [COMMAND]        this text\n"
"\n"
"Options:\n"
"  -j, --json            JSON output: one document per command, one object\n"
"                        per line for monitor\n"
"  -r, --rounds          stream inspect: summarise VRAM records per round\n"
"  -h, --help            this text\n"
"  -V, --version         gpupctl's version\n"
"\n"
"Exit status: 0 success, 1 error (including a damaged stream), 2 bad usage.\n";

static int usage_error(const char *fmt, const char *arg)
{
	fputs("gpupctl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'gpupctl --help' for more information.\n", stderr);
	return GPUP_EXIT_USAGE;
}

/* A netlink failure in words; the kernel's own reason when it gave one */
static int nl_error(struct gpup_nl *nl, const char *what, int err)
{
	const char *msg = nl ? gpup_nl_msg(nl) : "";

	if (err == -EPERM)
		fprintf(stderr, "gpupctl: %s: %s", what,
			"permission denied: CAP_NET_ADMIN is needed (run as root)");
	else
		fprintf(stderr, "gpupctl: %s: %s", what, strerror(-err));
	if (msg[0]) {
		fputs(" (", stderr);
		gpup_put_safe(stderr, msg);
		fputc(')', stderr);
	}
	fputc('\n', stderr);
	return GPUP_EXIT_ERROR;
}

static int nl_connect(struct gpup_nl **nl)
{
	int ret = gpup_nl_open(nl);

	if (ret == -ENOENT) {
		fprintf(stderr, "gpupctl: gpup: kernel module not loaded (modprobe gpup_sim)\n");
		return GPUP_EXIT_ERROR;
	}
	if (ret)
		return nl_error(NULL, "netlink", ret);
	return GPUP_EXIT_OK;
}

/* "37.4/256 MiB" */
static void put_used(FILE *f, int width, unsigned long long used, unsigned long long size)
{
	char u[32], sz[32], both[72];

	gpup_mib(u, sizeof(u), used);
	gpup_mib(sz, sizeof(sz), size);
	*strchr(u, ' ') = '\0';
	snprintf(both, sizeof(both), "%s/%s", u, sz);
	fprintf(f, "%-*s", width, both);
}

static const char *enum_or(const struct gpup_obj *o, int attr, char *buf, size_t len)
{
	const char *name = gpup_enum_name(o->set, attr, gpup_num(o, attr));

	if (!gpup_has(o, attr))
		return "-";
	if (name)
		return name;
	snprintf(buf, len, "%llu", gpup_num(o, attr));
	return buf;
}

static void print_parent(const struct gpup_obj *p)
{
	char t[32], f[32];

	printf("parent %llu: ", gpup_num(p, GPUP_A_PARENT_ID));
	gpup_put_safe(stdout, gpup_str(p, GPUP_A_PARENT_NAME));
	fputs(" (", stdout);
	gpup_put_safe(stdout, gpup_str(p, GPUP_A_PARENT_DRIVER));
	printf("), VRAM %s, %s free, %llu VFs\n",
	       gpup_mib(t, sizeof(t), gpup_num(p, GPUP_A_PARENT_VRAM_TOTAL)),
	       gpup_mib(f, sizeof(f), gpup_num(p, GPUP_A_PARENT_VRAM_FREE)),
	       gpup_num(p, GPUP_A_PARENT_VFS));
}

static void print_vf_row(const struct gpup_obj *v)
{
	char b1[16], b2[16], run[32] = "-", budget[16] = "-";

	printf("  %-4llu  %-36.36s  %-12.12s  ", gpup_num(v, GPUP_A_VF_ID),
	       gpup_str(v, GPUP_A_VF_NAME), gpup_str(v, GPUP_A_VF_PROFILE_NAME));
	put_used(stdout, 16, gpup_num(v, GPUP_A_VF_VRAM_USED), gpup_num(v, GPUP_A_VF_VRAM_SIZE));
	if (gpup_has(v, GPUP_A_VF_ENGINE_TIME))
		gpup_secs(run, sizeof(run), gpup_num(v, GPUP_A_VF_ENGINE_TIME));
	if (gpup_has(v, GPUP_A_VF_ENGINE_BUDGET))
		snprintf(budget, sizeof(budget), "%llu%%", gpup_num(v, GPUP_A_VF_ENGINE_BUDGET));
	printf("  %-8s  %-11s  %-6s  %s\n", enum_or(v, GPUP_A_VF_ENGINE_STATE, b1, sizeof(b1)),
	       run, budget, enum_or(v, GPUP_A_VF_MIG_STATE, b2, sizeof(b2)));
}

static void list_human(const struct gpup_objs *parents, const struct gpup_objs *vfs)
{
	unsigned int i, k, shown = 0;

	if (!parents->n)
		printf("no parent devices\n");
	for (i = 0; i < parents->n; i++) {
		unsigned long long id = gpup_num(&parents->v[i], GPUP_A_PARENT_ID);
		bool head = false;

		print_parent(&parents->v[i]);
		for (k = 0; k < vfs->n; k++) {
			if (gpup_num(&vfs->v[k], GPUP_A_VF_PARENT_ID) != id)
				continue;
			if (!head)
				printf("  %-4s  %-36s  %-12s  %-16s  %-8s  %-11s  %-6s  %s\n",
				       "ID", "NAME", "PROFILE", "VRAM USED/SIZE", "ENGINE",
				       "RUN TIME", "BUDGET", "MIGRATION");
			head = true;
			/* names are checked for terminal safety as they print */
			print_vf_row(&vfs->v[k]);
			shown++;
		}
	}
	if (shown < vfs->n)
		printf("%u VFs of parents that went away meanwhile\n", vfs->n - shown);
}

/* A message as an element of an array */
static void json_elem(struct gpup_json *j, const struct gpup_obj *o)
{
	gpup_json_open(j, NULL, '{');
	gpup_json_obj(j, NULL, o);
	gpup_json_close(j, '}');
}

static void list_json(const struct gpup_objs *parents, const struct gpup_objs *vfs)
{
	struct gpup_json j;
	unsigned int i, k;

	gpup_json_init(&j, stdout, true);
	gpup_json_open(&j, NULL, '{');
	gpup_json_open(&j, "parents", '[');
	for (i = 0; i < parents->n; i++) {
		unsigned long long id = gpup_num(&parents->v[i], GPUP_A_PARENT_ID);

		gpup_json_open(&j, NULL, '{');
		gpup_json_obj(&j, NULL, &parents->v[i]);
		gpup_json_open(&j, "vf_list", '[');
		for (k = 0; k < vfs->n; k++)
			if (gpup_num(&vfs->v[k], GPUP_A_VF_PARENT_ID) == id)
				json_elem(&j, &vfs->v[k]);
		gpup_json_close(&j, ']');
		gpup_json_close(&j, '}');
	}
	gpup_json_close(&j, ']');
	gpup_json_close(&j, '}');
	gpup_json_end(&j);
}

/*
 * The parents and one more dump (VFs or profiles), for list and profiles.
 * On success the caller frees both lists.
 */
static int dump_with_parents(int cmd, const char *what, const struct gpup_set *set,
			     struct gpup_objs *parents, struct gpup_objs *objs)
{
	struct gpup_nl *nl;
	int ret;

	ret = nl_connect(&nl);
	if (ret)
		return ret;
	ret = gpup_nl_dump(nl, GPUP_CMD_PARENT_GET, &gpup_parent_set, 0, 0, parents);
	if (ret) {
		ret = nl_error(nl, "parent-get", ret);
		goto out;
	}
	ret = gpup_nl_dump(nl, cmd, set, 0, 0, objs);
	if (ret) {
		ret = nl_error(nl, what, ret);
		gpup_objs_free(parents);
	}
out:
	gpup_nl_close(nl);
	return ret;
}

static int cmd_list(int argc, char **argv)
{
	struct gpup_objs parents, vfs;
	int ret;

	if (argc)
		return usage_error("list: unexpected argument '%s'", argv[0]);
	ret = dump_with_parents(GPUP_CMD_VF_GET, "vf-get", &gpup_vf_set, &parents, &vfs);
	if (ret)
		return ret;
	if (json)
		list_json(&parents, &vfs);
	else
		list_human(&parents, &vfs);
	gpup_objs_free(&vfs);
	gpup_objs_free(&parents);
	return 0;
}

/* VF as given: an id when it is all digits, a device name otherwise */
static int vf_lookup(struct gpup_nl *nl, const char *arg, struct gpup_obj *vf)
{
	unsigned long id = 0;
	char *end;
	int ret;

	if (arg[0] >= '0' && arg[0] <= '9') {
		errno = 0;
		id = strtoul(arg, &end, 10);
		if (*end || errno || !id || id > UINT32_MAX)
			id = 0;
		else
			arg = NULL;
	}
	if (arg && (strlen(arg) > GPUP_NAME_MAX_LEN || !arg[0]))
		ret = -ENOENT;
	else
		ret = gpup_nl_vf_get(nl, id, arg, vf);
	if (ret == -ENOENT || ret == -ENODEV) {
		fprintf(stderr, "gpupctl: no VF '");
		gpup_put_safe(stderr, arg ? arg : "");
		if (!arg)
			fprintf(stderr, "%lu", id);
		fprintf(stderr, "'\n");
		return GPUP_EXIT_ERROR;
	}
	if (ret)
		return nl_error(nl, "vf-get", ret);
	return GPUP_EXIT_OK;
}

static void show_size(const char *label, const struct gpup_obj *v, int attr)
{
	char mib[32];

	if (gpup_has(v, attr))
		printf("  %-16s %s (%llu bytes)\n", label,
		       gpup_mib(mib, sizeof(mib), gpup_num(v, attr)), gpup_num(v, attr));
}

static void show_num(const char *label, const struct gpup_obj *v, int attr)
{
	if (gpup_has(v, attr))
		printf("  %-16s %llu\n", label, gpup_num(v, attr));
}

static void show_str(const char *label, const struct gpup_obj *v, int attr)
{
	printf("  %-16s ", label);
	gpup_put_safe(stdout, gpup_str(v, attr)[0] ? gpup_str(v, attr) : "-");
	putchar('\n');
}

/*
 * "1.234 s run, 0.200 s throttled, backlog 12 commands, budget 25%": the
 * kernel sends the four together, or (before it had them) none
 */
static void show_engine_use(const struct gpup_obj *v)
{
	unsigned long long backlog = gpup_num(v, GPUP_A_VF_ENGINE_BACKLOG);
	char run[32], held[32];

	if (!gpup_has(v, GPUP_A_VF_ENGINE_TIME))
		return;
	printf("  %-16s %s run, %s throttled, backlog %llu command%s, budget %llu%%\n",
	       "engine use", gpup_secs(run, sizeof(run), gpup_num(v, GPUP_A_VF_ENGINE_TIME)),
	       gpup_secs(held, sizeof(held), gpup_num(v, GPUP_A_VF_ENGINE_THROTTLED)),
	       backlog, backlog == 1 ? "" : "s", gpup_num(v, GPUP_A_VF_ENGINE_BUDGET));
}

static void show_human(const struct gpup_obj *v)
{
	char b[16];

	printf("vf %llu ", gpup_num(v, GPUP_A_VF_ID));
	gpup_put_safe(stdout, gpup_str(v, GPUP_A_VF_NAME));
	putchar('\n');
	show_num("parent", v, GPUP_A_VF_PARENT_ID);
	show_str("profile", v, GPUP_A_VF_PROFILE_NAME);
	show_num("profile id", v, GPUP_A_VF_PROFILE_ID);
	show_size("VRAM size", v, GPUP_A_VF_VRAM_SIZE);
	show_size("VRAM used", v, GPUP_A_VF_VRAM_USED);
	show_num("engines", v, GPUP_A_VF_ENGINES);
	printf("  %-16s %s\n", "engine state", enum_or(v, GPUP_A_VF_ENGINE_STATE, b, sizeof(b)));
	show_engine_use(v);
	show_num("fence", v, GPUP_A_VF_FENCE);
	printf("  %-16s %s\n", "migration state", enum_or(v, GPUP_A_VF_MIG_STATE, b, sizeof(b)));
	show_size("pre-copy", v, GPUP_A_VF_PRECOPY_BYTES);
	show_size("stop-copy", v, GPUP_A_VF_STOPCOPY_BYTES);
	show_size("resumed", v, GPUP_A_VF_RESUME_BYTES);
	show_size("pending", v, GPUP_A_VF_PENDING_BYTES);
	show_num("rounds", v, GPUP_A_VF_ROUNDS);
	show_num("migrations", v, GPUP_A_VF_MIGRATIONS);
	show_str("last error", v, GPUP_A_VF_ERROR);
	show_str("failing field", v, GPUP_A_VF_ERROR_FIELD);
}

static int cmd_show(int argc, char **argv)
{
	struct gpup_json j;
	struct gpup_obj vf;
	struct gpup_nl *nl;
	int ret;

	if (argc != 1)
		return usage_error("show: %s", argc ? "one VF only" : "which VF? (id or name)");
	ret = nl_connect(&nl);
	if (ret)
		return ret;
	ret = vf_lookup(nl, argv[0], &vf);
	if (!ret) {
		if (json) {
			gpup_json_init(&j, stdout, true);
			gpup_json_open(&j, NULL, '{');
			gpup_json_obj(&j, NULL, &vf);
			gpup_json_close(&j, '}');
			gpup_json_end(&j);
		} else {
			show_human(&vf);
		}
		gpup_obj_free(&vf);
	}
	gpup_nl_close(nl);
	return ret;
}

static void profiles_human(const struct gpup_objs *parents, const struct gpup_objs *profiles)
{
	unsigned int i, k;
	char mib[32];

	if (!parents->n)
		printf("no parent devices\n");
	for (i = 0; i < parents->n; i++) {
		unsigned long long id = gpup_num(&parents->v[i], GPUP_A_PARENT_ID);

		print_parent(&parents->v[i]);
		printf("  %-4s  %-16s  %-10s  %-7s  %s\n", "ID", "PROFILE", "VRAM", "ENGINES",
		       "AVAILABLE");
		for (k = 0; k < profiles->n; k++) {
			const struct gpup_obj *p = &profiles->v[k];

			if (gpup_num(p, GPUP_A_PROFILE_PARENT_ID) != id)
				continue;
			printf("  %-4llu  ", gpup_num(p, GPUP_A_PROFILE_ID));
			printf("%-16.16s  ", gpup_str(p, GPUP_A_PROFILE_NAME));
			printf("%-10s  %-7llu  %llu\n",
			       gpup_mib(mib, sizeof(mib), gpup_num(p, GPUP_A_PROFILE_VRAM_SIZE)),
			       gpup_num(p, GPUP_A_PROFILE_ENGINES),
			       gpup_num(p, GPUP_A_PROFILE_AVAILABLE));
		}
	}
}

static void objs_json(const char *key, const struct gpup_objs *l)
{
	struct gpup_json j;
	unsigned int i;

	gpup_json_init(&j, stdout, true);
	gpup_json_open(&j, NULL, '{');
	gpup_json_open(&j, key, '[');
	for (i = 0; i < l->n; i++)
		json_elem(&j, &l->v[i]);
	gpup_json_close(&j, ']');
	gpup_json_close(&j, '}');
	gpup_json_end(&j);
}

static int cmd_profiles(int argc, char **argv)
{
	struct gpup_objs parents, profiles;
	int ret;

	if (argc)
		return usage_error("profiles: unexpected argument '%s'", argv[0]);
	ret = dump_with_parents(GPUP_CMD_PROFILE_GET, "profile-get", &gpup_profile_set,
				&parents, &profiles);
	if (ret)
		return ret;
	if (json)
		objs_json("profiles", &profiles);
	else
		profiles_human(&parents, &profiles);
	gpup_objs_free(&profiles);
	gpup_objs_free(&parents);
	return 0;
}

static int cmd_clear_stats(int argc, char **argv)
{
	struct gpup_json j;
	struct gpup_obj vf;
	struct gpup_nl *nl;
	int ret;

	if (argc != 1)
		return usage_error("clear-stats: %s", argc ? "one VF only" : "which VF?");
	ret = nl_connect(&nl);
	if (ret)
		return ret;
	ret = vf_lookup(nl, argv[0], &vf);
	if (ret)
		goto out;
	ret = gpup_nl_vf_clear_stats(nl, gpup_num(&vf, GPUP_A_VF_ID));
	if (ret == -ENOENT || ret == -ENODEV) {
		fprintf(stderr, "gpupctl: no VF '");
		gpup_put_safe(stderr, argv[0]);
		fprintf(stderr, "' (removed meanwhile)\n");
		ret = GPUP_EXIT_ERROR;
	} else if (ret == -EBUSY) {
		ret = nl_error(nl, "clear-stats: the VF is busy, migrating or changing state", ret);
	} else if (ret) {
		ret = nl_error(nl, "clear-stats", ret);
	} else if (json) {
		gpup_json_init(&j, stdout, true);
		gpup_json_open(&j, NULL, '{');
		gpup_json_u64(&j, "id", gpup_num(&vf, GPUP_A_VF_ID));
		gpup_json_str(&j, "name", gpup_str(&vf, GPUP_A_VF_NAME));
		gpup_json_bool(&j, "cleared", true);
		gpup_json_close(&j, '}');
		gpup_json_end(&j);
	} else {
		printf("cleared the migration counters of vf %llu ",
		       gpup_num(&vf, GPUP_A_VF_ID));
		gpup_put_safe(stdout, gpup_str(&vf, GPUP_A_VF_NAME));
		putchar('\n');
	}
	gpup_obj_free(&vf);
out:
	gpup_nl_close(nl);
	return ret;
}

/* monitor */

struct monitor {
	bool tty;
	bool progress_shown;	/* a carriage-return line is on screen */
};

static void ev_time(struct timeval *tv, char *buf, size_t len)
{
	struct tm tm;

	gettimeofday(tv, NULL);
	localtime_r(&tv->tv_sec, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03d", tm.tm_hour % 24, tm.tm_min % 60,
		 tm.tm_sec % 61, (int)(tv->tv_usec / 1000 % 1000));
}

static const char * const ev_names[] = {
	[0] = "lost",
	[GPUP_CMD_MIG_STATE_NTF] = "mig-state",
	[GPUP_CMD_MIG_PROGRESS_NTF] = "mig-progress",
	[GPUP_CMD_MIG_DONE_NTF] = "mig-done",
};

static void ev_json(int cmd, const struct gpup_obj *o, const struct timeval *tv)
{
	struct gpup_json j;

	gpup_json_init(&j, stdout, false);
	gpup_json_open(&j, NULL, '{');
	gpup_json_str(&j, "event", ev_names[cmd]);
	gpup_json_num(&j, "time", tv->tv_sec + tv->tv_usec / 1e6);
	gpup_json_obj(&j, NULL, o);
	gpup_json_close(&j, '}');
	gpup_json_end(&j);
}

static void ev_sizes(const struct gpup_obj *o)
{
	char a[32], b[32];

	printf("%s pre-copy, %s stop-copy",
	       gpup_mib(a, sizeof(a), gpup_num(o, GPUP_A_VF_PRECOPY_BYTES)),
	       gpup_mib(b, sizeof(b), gpup_num(o, GPUP_A_VF_STOPCOPY_BYTES)));
}

static void ev_done(const struct gpup_obj *o)
{
	char a[32], b[16], c[16];
	const char *err = gpup_str(o, GPUP_A_VF_ERROR);
	const char *field = gpup_str(o, GPUP_A_VF_ERROR_FIELD);

	printf("%s %s: ", enum_or(o, GPUP_A_VF_DIRECTION, b, sizeof(b)),
	       enum_or(o, GPUP_A_VF_RESULT, c, sizeof(c)));
	if (gpup_num(o, GPUP_A_VF_DIRECTION) == GPUP_MIG_DIR_RESUME) {
		printf("%s resumed", gpup_mib(a, sizeof(a), gpup_num(o, GPUP_A_VF_RESUME_BYTES)));
	} else {
		ev_sizes(o);
		printf(", %llu rounds", gpup_num(o, GPUP_A_VF_ROUNDS));
	}
	if (err[0]) {
		fputs(": ", stdout);
		gpup_put_safe(stdout, err);
	}
	if (field[0]) {
		fputs(" (field ", stdout);
		gpup_put_safe(stdout, field);
		putchar(')');
	}
}

static void on_event(void *ctx, int cmd, const struct gpup_obj *o)
{
	struct monitor *m = ctx;
	char t[32], b1[16], b2[16], mib[32];
	struct timeval tv;

	ev_time(&tv, t, sizeof(t));
	if (json) {
		ev_json(cmd, o, &tv);
		return;
	}
	/* a progress line stays on screen, ended, when anything else comes */
	if (m->progress_shown && cmd != GPUP_CMD_MIG_PROGRESS_NTF)
		putchar('\n');
	if (cmd == GPUP_CMD_MIG_PROGRESS_NTF && m->tty)
		fputs("\r\033[K", stdout);
	m->progress_shown = false;
	printf("%s ", t);
	if (!cmd) {
		printf("events lost: the receive buffer overflowed\n");
		fflush(stdout);
		return;
	}
	printf("vf %llu ", gpup_num(o, GPUP_A_VF_ID));
	gpup_put_safe(stdout, gpup_str(o, GPUP_A_VF_NAME));
	fputs(": ", stdout);
	switch (cmd) {
	case GPUP_CMD_MIG_STATE_NTF:
		printf("%s -> %s", enum_or(o, GPUP_A_VF_OLD_MIG_STATE, b1, sizeof(b1)),
		       enum_or(o, GPUP_A_VF_MIG_STATE, b2, sizeof(b2)));
		break;
	case GPUP_CMD_MIG_PROGRESS_NTF:
		printf("%s round %llu: ", enum_or(o, GPUP_A_VF_MIG_STATE, b1, sizeof(b1)),
		       gpup_num(o, GPUP_A_VF_ROUNDS));
		ev_sizes(o);
		printf(", %s pending",
		       gpup_mib(mib, sizeof(mib), gpup_num(o, GPUP_A_VF_PENDING_BYTES)));
		m->progress_shown = m->tty;
		break;
	default:
		ev_done(o);
	}
	if (!m->progress_shown)
		putchar('\n');
	fflush(stdout);
}

static int cmd_monitor(int argc, char **argv)
{
	struct monitor m = { .tty = isatty(STDOUT_FILENO) };
	struct gpup_nl *nl;
	sigset_t mask;
	int ret, sfd;

	if (argc)
		return usage_error("monitor: unexpected argument '%s'", argv[0]);
	ret = nl_connect(&nl);
	if (ret)
		return ret;
	/* interrupted or terminated, it ends its line and exits 0 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		ret = nl_error(nl, "monitor", -errno);
		goto out;
	}
	ret = gpup_nl_monitor(nl, on_event, &m, sfd);
	close(sfd);
	if (m.progress_shown)
		putchar('\n');
	fflush(stdout);
	if (ret)
		ret = nl_error(nl, "monitor", ret);
out:
	gpup_nl_close(nl);
	return ret;
}

static int cmd_stream(int argc, char **argv, bool rounds)
{
	struct gpup_inspect_opts o = { .json = json, .rounds = rounds };
	const char *name;
	FILE *in;
	int ret;

	if (!argc || strcmp(argv[0], "inspect"))
		return usage_error("stream: %s", argc ? "the one subcommand is 'inspect'" :
				   "which subcommand? (inspect)");
	if (argc != 2)
		return usage_error("stream inspect: %s", argc < 2 ? "which FILE?" : "one FILE");
	name = argv[1];
	if (!strcmp(name, "-")) {
		in = stdin;
		name = "(standard input)";
	} else {
		in = fopen(name, "rb");
		if (!in) {
			fprintf(stderr, "gpupctl: %s: %s\n", name, strerror(errno));
			return GPUP_EXIT_ERROR;
		}
	}
	ret = gpup_inspect(in, name, stdout, stderr, &o);
	if (in != stdin)
		fclose(in);
	return ret;
}

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "rounds", no_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	bool rounds = false;
	char *cmd;
	int c;

	/* GNU getopt moves options after the command to the front */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "jrhV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'r':
			rounds = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return GPUP_EXIT_OK;
		case 'V':
			printf("gpupctl %s\n", GPUPCTL_VERSION);
			return GPUP_EXIT_OK;
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("%s", "no command");
	cmd = argv[optind++];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return GPUP_EXIT_OK;
	}
	if (rounds && strcmp(cmd, "stream"))
		return usage_error("%s", "--rounds is an option of stream inspect");
	if (!strcmp(cmd, "list"))
		return cmd_list(argc, argv);
	if (!strcmp(cmd, "show"))
		return cmd_show(argc, argv);
	if (!strcmp(cmd, "profiles"))
		return cmd_profiles(argc, argv);
	if (!strcmp(cmd, "clear-stats"))
		return cmd_clear_stats(argc, argv);
	if (!strcmp(cmd, "monitor"))
		return cmd_monitor(argc, argv);
	if (!strcmp(cmd, "stream"))
		return cmd_stream(argc, argv, rounds);
	return usage_error("unknown command '%s'", cmd);
}
