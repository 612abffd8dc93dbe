// SPDX-License-Identifier: GPL-2.0-only
/*
 * gpupctl output: a small streaming JSON writer and the helpers human
 * output shares.  Every string that came from the kernel or from a file is
 * escaped: a VF name or an error string is as untrusted as a stream.
 */
#include <string.h>

#include "gpupctl.h"

const struct gpup_field *gpup_set_field(const struct gpup_set *set, int attr)
{
	unsigned int i;

	for (i = 0; i < set->nfields; i++)
		if (set->fields[i].attr == attr)
			return &set->fields[i];
	return NULL;
}

const char *gpup_enum_name(const struct gpup_set *set, int attr, unsigned long long v)
{
	const struct gpup_field *fl = gpup_set_field(set, attr);

	unsigned long long i;

	if (!fl || fl->kind != GPUP_K_ENUM)
		return NULL;
	for (i = 0; fl->names[i]; i++)
		if (i == v)
			return fl->names[i];
	return NULL;
}

void gpup_json_init(struct gpup_json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
	j->first[0] = true;
}

static void json_indent(struct gpup_json *j)
{
	int i;

	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

static void json_escaped(FILE *f, const char *s, size_t len)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Separator, indentation and key of the next member */
static void json_member(struct gpup_json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (j->depth)
		json_indent(j);
	if (key) {
		json_escaped(j->f, key, strlen(key));
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

void gpup_json_open(struct gpup_json *j, const char *key, char brace)
{
	json_member(j, key);
	fputc(brace, j->f);
	if (j->depth < (int)(sizeof(j->first) - 1))
		j->depth++;
	j->first[j->depth] = true;
}

void gpup_json_close(struct gpup_json *j, char brace)
{
	bool empty = j->first[j->depth];

	if (j->depth)
		j->depth--;
	if (!empty)
		json_indent(j);
	fputc(brace, j->f);
}

void gpup_json_strn(struct gpup_json *j, const char *key, const char *s, size_t len)
{
	json_member(j, key);
	json_escaped(j->f, s, len);
}

void gpup_json_str(struct gpup_json *j, const char *key, const char *s)
{
	gpup_json_strn(j, key, s, strlen(s));
}

void gpup_json_u64(struct gpup_json *j, const char *key, unsigned long long v)
{
	json_member(j, key);
	fprintf(j->f, "%llu", v);
}

void gpup_json_num(struct gpup_json *j, const char *key, double v)
{
	json_member(j, key);
	fprintf(j->f, "%.3f", v);
}

void gpup_json_bool(struct gpup_json *j, const char *key, bool v)
{
	json_member(j, key);
	fputs(v ? "true" : "false", j->f);
}

/*
 * The attributes of a message as members of the current object, in the
 * spec's order.  An enum value this gpupctl does not know stays a number.
 */
void gpup_json_obj(struct gpup_json *j, const char *key, const struct gpup_obj *o)
{
	const struct gpup_set *set = o->set;
	unsigned int i;

	if (key)
		gpup_json_open(j, key, '{');
	for (i = 0; i < set->nfields; i++) {
		const struct gpup_field *fl = &set->fields[i];
		const char *name;

		if (!gpup_has(o, fl->attr))
			continue;
		switch (fl->kind) {
		case GPUP_K_STR:
			gpup_json_str(j, fl->key, gpup_str(o, fl->attr));
			break;
		case GPUP_K_ENUM:
			name = gpup_enum_name(set, fl->attr, o->num[fl->attr]);
			if (name) {
				gpup_json_str(j, fl->key, name);
				break;
			}
			fallthrough;
		default:
			gpup_json_u64(j, fl->key, o->num[fl->attr]);
		}
	}
	if (key)
		gpup_json_close(j, '}');
}

/* The document is complete: end its line */
void gpup_json_end(struct gpup_json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}

const char *gpup_mib(char *buf, size_t len, unsigned long long bytes)
{
	const unsigned long long mib = 1024 * 1024;

	if (bytes % mib == 0)
		snprintf(buf, len, "%llu MiB", bytes / mib);
	else if (bytes < mib / 1000)
		snprintf(buf, len, "%llu bytes", bytes);	/* not "0.000 MiB" */
	else if (bytes < mib / 10)
		snprintf(buf, len, "%.3f MiB", (double)bytes / mib);
	else
		snprintf(buf, len, "%.1f MiB", (double)bytes / mib);
	return buf;
}

const char *gpup_secs(char *buf, size_t len, unsigned long long ns)
{
	snprintf(buf, len, "%llu.%03llu s", ns / 1000000000, ns / 1000000 % 1000);
	return buf;
}

void gpup_put_safe(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		fputc(c < 0x20 || c >= 0x7f ? '?' : c, f);
	}
}
