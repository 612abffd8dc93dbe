// SPDX-License-Identifier: GPL-2.0-only
/*
 * A strict JSON syntax check (RFC 8259) for what the fuzzed tools print:
 * one value, nothing after it but white space.  Syntax only: no
 * duplicate-key or number-range checks.
 */
#include "fuzz.h"

#define MAX_DEPTH	32

struct json_in {
	const char *s, *end;
	int depth;
};

static bool json_value(struct json_in *j);

static void json_ws(struct json_in *j)
{
	while (j->s < j->end && (*j->s == ' ' || *j->s == '\t' || *j->s == '\n' ||
				 *j->s == '\r'))
		j->s++;
}

static bool json_eat(struct json_in *j, char c)
{
	json_ws(j);
	if (j->s >= j->end || *j->s != c)
		return false;
	j->s++;
	return true;
}

static bool json_hex4(struct json_in *j)
{
	int i;

	for (i = 0; i < 4; i++, j->s++)
		if (j->s >= j->end || !*j->s || !strchr("0123456789abcdefABCDEF", *j->s))
			return false;
	return true;
}

static bool json_string(struct json_in *j)
{
	if (!json_eat(j, '"'))
		return false;
	while (j->s < j->end) {
		unsigned char c = *j->s++;

		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (j->s >= j->end)
			return false;
		c = *j->s++;
		if (c == 'u' && !json_hex4(j))
			return false;
		if (c != 'u' && (!c || !strchr("\"\\/bfnrt", c)))
			return false;
	}
	return false;
}

static bool json_digits(struct json_in *j)
{
	const char *start = j->s;

	while (j->s < j->end && *j->s >= '0' && *j->s <= '9')
		j->s++;
	return j->s > start;
}

static bool json_number(struct json_in *j)
{
	if (j->s < j->end && *j->s == '-')
		j->s++;
	if (j->s < j->end && *j->s == '0')
		j->s++;
	else if (!json_digits(j))
		return false;
	if (j->s < j->end && *j->s == '.') {
		j->s++;
		if (!json_digits(j))
			return false;
	}
	if (j->s < j->end && (*j->s == 'e' || *j->s == 'E')) {
		j->s++;
		if (j->s < j->end && (*j->s == '+' || *j->s == '-'))
			j->s++;
		if (!json_digits(j))
			return false;
	}
	return true;
}

static bool json_word(struct json_in *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->s) < n || memcmp(j->s, w, n))
		return false;
	j->s += n;
	return true;
}

/* Members or elements up to @close; an object's have keys */
static bool json_items(struct json_in *j, char close, bool keys)
{
	if (++j->depth > MAX_DEPTH)
		return false;
	if (json_eat(j, close)) {
		j->depth--;
		return true;
	}
	do {
		if (keys && (!json_string(j) || !json_eat(j, ':')))
			return false;
		if (!json_value(j))
			return false;
	} while (json_eat(j, ','));
	j->depth--;
	return json_eat(j, close);
}

static bool json_value(struct json_in *j)
{
	json_ws(j);
	if (j->s >= j->end)
		return false;
	switch (*j->s) {
	case '{':
		j->s++;
		return json_items(j, '}', true);
	case '[':
		j->s++;
		return json_items(j, ']', false);
	case '"':
		return json_string(j);
	case 't':
		return json_word(j, "true");
	case 'f':
		return json_word(j, "false");
	case 'n':
		return json_word(j, "null");
	default:
		return json_number(j);
	}
}

bool gpup_fuzz_json_ok(const char *s, size_t len)
{
	struct json_in j = { s, s + len, 0 };

	if (!json_value(&j))
		return false;
	json_ws(&j);
	return j.s == j.end;
}
