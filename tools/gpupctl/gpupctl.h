/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gpupctl: what its parts share.  nl.c talks to the "gpup" generic
 * netlink family, output.c writes human and JSON output, inspect.c
 * decodes saved migration streams, gpupctl.c parses the command line.
 */
#ifndef _GPUPCTL_H_
#define _GPUPCTL_H_

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif
#ifndef fallthrough
#define fallthrough		__attribute__((__fallthrough__))
#endif

/* Exit codes, as the man page lists them */
#define GPUP_EXIT_OK		0
#define GPUP_EXIT_ERROR		1
#define GPUP_EXIT_USAGE		2

/* Attribute sets, each field as the spec names it */
enum gpup_kind {
	GPUP_K_U32,
	GPUP_K_U64,
	GPUP_K_STR,
	GPUP_K_ENUM,
};

struct gpup_field {
	int attr;			/* GPUP_A_* */
	const char *key;		/* JSON key: the spec's name, '-' as '_' */
	enum gpup_kind kind;
	const char * const *names;	/* GPUP_K_ENUM: value -> spec name, NULL-ended */
};

#define GPUP_OBJ_MAX_ATTR	31

struct gpup_set {
	const char *name;
	const struct gpup_field *fields;
	unsigned int nfields;
};

extern const struct gpup_set gpup_parent_set, gpup_profile_set, gpup_vf_set;

/* One parsed message: the attributes present and their values */
struct gpup_obj {
	const struct gpup_set *set;
	uint32_t present;			/* bit per attribute */
	unsigned long long num[GPUP_OBJ_MAX_ATTR + 1];
	char *str[GPUP_OBJ_MAX_ATTR + 1];
};

struct gpup_objs {
	struct gpup_obj *v;
	unsigned int n, cap;
};

static inline bool gpup_has(const struct gpup_obj *o, int attr)
{
	return o->present & (1U << attr);
}

static inline unsigned long long gpup_num(const struct gpup_obj *o, int attr)
{
	return gpup_has(o, attr) ? o->num[attr] : 0;
}

static inline const char *gpup_str(const struct gpup_obj *o, int attr)
{
	return gpup_has(o, attr) && o->str[attr] ? o->str[attr] : "";
}

void gpup_obj_free(struct gpup_obj *o);
void gpup_objs_free(struct gpup_objs *l);
const struct gpup_field *gpup_set_field(const struct gpup_set *set, int attr);
const char *gpup_enum_name(const struct gpup_set *set, int attr, unsigned long long v);

/* nl.c: a connection to the family */
struct gpup_nl;

/*
 * Every call returns 0 or a negative errno; -ENOENT from gpup_nl_open()
 * means the family is not registered.  gpup_nl_msg() is the kernel's
 * extended ack message for the last error, or "".
 */
int gpup_nl_open(struct gpup_nl **nlp);
void gpup_nl_close(struct gpup_nl *nl);
const char *gpup_nl_msg(const struct gpup_nl *nl);
int gpup_nl_dump(struct gpup_nl *nl, int cmd, const struct gpup_set *set,
		 int filter_attr, uint32_t filter, struct gpup_objs *out);
int gpup_nl_vf_get(struct gpup_nl *nl, uint32_t id, const char *name,
		   struct gpup_obj *out);
int gpup_nl_vf_clear_stats(struct gpup_nl *nl, uint32_t id);

/* Notifications: @cb gets each one (cmd GPUP_CMD_MIG_*_NTF) */
typedef void (*gpup_ntf_cb)(void *ctx, int cmd, const struct gpup_obj *o);
int gpup_nl_monitor(struct gpup_nl *nl, gpup_ntf_cb cb, void *ctx, int stop_fd);

/* output.c: a JSON writer with nesting, one document per command */
struct gpup_json {
	FILE *f;
	int depth;
	bool first[16];		/* no member written yet at this depth */
	bool pretty;
};

void gpup_json_init(struct gpup_json *j, FILE *f, bool pretty);
void gpup_json_open(struct gpup_json *j, const char *key, char brace);
void gpup_json_close(struct gpup_json *j, char brace);
void gpup_json_str(struct gpup_json *j, const char *key, const char *s);
void gpup_json_strn(struct gpup_json *j, const char *key, const char *s, size_t len);
void gpup_json_u64(struct gpup_json *j, const char *key, unsigned long long v);
void gpup_json_num(struct gpup_json *j, const char *key, double v);
void gpup_json_bool(struct gpup_json *j, const char *key, bool v);
void gpup_json_obj(struct gpup_json *j, const char *key, const struct gpup_obj *o);
void gpup_json_end(struct gpup_json *j);

/* Sizes as people read them: "256 MiB", "37.4 MiB" */
const char *gpup_mib(char *buf, size_t len, unsigned long long bytes);
/* Times, from nanoseconds, to the millisecond: "1.234 s" */
const char *gpup_secs(char *buf, size_t len, unsigned long long ns);
/* A string from the kernel or a file, made safe for a terminal */
void gpup_put_safe(FILE *f, const char *s);

/* inspect.c */
struct gpup_inspect_opts {
	bool json;
	bool rounds;		/* VRAM summarised per round */
};

int gpup_inspect(FILE *in, const char *name, FILE *out, FILE *err,
		 const struct gpup_inspect_opts *o);

#endif /* _GPUPCTL_H_ */
