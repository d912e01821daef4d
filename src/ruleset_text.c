/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A rule as nft prints it, rebuilt from its JSON expressions: what an event
 * shows after "rejected by ... handle N:". The JSON is what both the live
 * daemon and `explain --ruleset` read, so both print a rule the same way;
 * what this printer does not know it shows by its JSON key, never drops. */
#include "ruleset_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct text {
	char b[1024];
	size_t len;
};

__attribute__((format(printf, 2, 3)))
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len >= sizeof(t->b) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->b + t->len, sizeof(t->b) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len = t->len + (size_t)n < sizeof(t->b) ? t->len + (size_t)n : sizeof(t->b) - 1;
}

static void value(struct text *t, json_t *j, bool quote);

static void verdict(struct text *t, json_t *j)
{
	const char *k = json_object_iter_key(json_object_iter(j));
	json_t *v = json_object_iter_value(json_object_iter(j));

	if (!k)
		return;
	if (!strcmp(k, "jump") || !strcmp(k, "goto"))
		add(t, "%s %s", k, json_string_value(json_object_get(v, "target")) ?: "?");
	else
		add(t, "%s", k);
}

static void list(struct text *t, json_t *a, const char *sep, bool quote)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) {
		if (i)
			add(t, "%s", sep);
		if (json_is_array(v) && json_array_size(v) == 2) {  /* a map element */
			value(t, json_array_get(v, 0), quote);
			add(t, " : ");
			value(t, json_array_get(v, 1), quote);
		} else {
			value(t, v, quote);
		}
	}
}

/* An expression on either side of a match: fields, values, sets. */
static void value(struct text *t, json_t *j, bool quote)
{
	json_t *o;

	if (json_is_integer(j)) {
		add(t, "%lld", (long long)json_integer_value(j));
	} else if (json_is_string(j)) {
		add(t, quote ? "\"%s\"" : "%s", json_string_value(j));
	} else if (json_is_array(j)) {
		list(t, j, ",", quote);
	} else if ((o = json_object_get(j, "payload")) && json_object_get(o, "base")) {
		add(t, "@%s,%lld,%lld", json_string_value(json_object_get(o, "base")) ?: "?",
		    (long long)json_integer_value(json_object_get(o, "offset")),
		    (long long)json_integer_value(json_object_get(o, "len")));
	} else if ((o = json_object_get(j, "payload"))) {
		add(t, "%s %s", json_string_value(json_object_get(o, "protocol")) ?: "?",
		    json_string_value(json_object_get(o, "field")) ?: "?");
	} else if ((o = json_object_get(j, "meta"))) {
		const char *k = json_string_value(json_object_get(o, "key")) ?: "?";
		bool bare = !strcmp(k, "iifname") || !strcmp(k, "oifname") || !strcmp(k, "iif") ||
			    !strcmp(k, "oif") || !strcmp(k, "mark");

		add(t, bare ? "%s" : "meta %s", k);
	} else if ((o = json_object_get(j, "ct"))) {
		add(t, "ct %s", json_string_value(json_object_get(o, "key")) ?: "?");
	} else if ((o = json_object_get(j, "&"))) {
		value(t, json_array_get(o, 0), quote);
		add(t, " & ");
		if (json_is_array(json_array_get(o, 1))) {
			add(t, "(");
			list(t, json_array_get(o, 1), " | ", quote);
			add(t, ")");
		} else {
			value(t, json_array_get(o, 1), quote);
		}
	} else if ((o = json_object_get(j, "concat"))) {
		list(t, o, " . ", quote);
	} else if ((o = json_object_get(j, "set"))) {
		add(t, "{ ");
		if (json_is_array(o))
			list(t, o, ", ", quote);
		else
			value(t, o, quote);
		add(t, " }");
	} else if ((o = json_object_get(j, "prefix"))) {
		value(t, json_object_get(o, "addr"), false);
		add(t, "/%lld", (long long)json_integer_value(json_object_get(o, "len")));
	} else if ((o = json_object_get(j, "range"))) {
		value(t, json_array_get(o, 0), quote);
		add(t, "-");
		value(t, json_array_get(o, 1), quote);
	} else if ((o = json_object_get(j, "elem"))) {
		value(t, json_object_get(o, "val"), quote);
	} else if (json_is_object(j)) {
		verdict(t, j);
	}
}

/* Marks and raw payload are printed in hex, as nft does ("ct mark 0x00000005"). */
static bool hex(json_t *left)
{
	json_t *o = json_object_get(left, "ct") ? json_object_get(left, "ct")
						: json_object_get(left, "meta");
	const char *k = json_string_value(json_object_get(o, "key"));

	return (k && !strcmp(k, "mark")) ||
	       json_object_get(json_object_get(left, "payload"), "base");
}

/* Names compared as strings are printed quoted, as nft does. */
static bool quoted(json_t *left)
{
	const char *k = json_string_value(json_object_get(json_object_get(left, "meta"), "key"));

	return k && (!strcmp(k, "iifname") || !strcmp(k, "oifname"));
}

static void statement(struct text *t, json_t *e)
{
	const char *k = json_object_iter_key(json_object_iter(e)) ?: "?";
	json_t *v = json_object_iter_value(json_object_iter(e)), *o;

	if (!strcmp(k, "match")) {
		const char *op = json_string_value(json_object_get(v, "op")) ?: "?";
		json_t *left = json_object_get(v, "left");

		json_t *and = json_object_get(left, "&");

		if (and && !strcmp(op, "==") && json_is_array(json_array_get(and, 1))) {
			/* A flag mask: nft 1.0 writes "tcp flags syn / syn,ack". */
			value(t, json_array_get(and, 0), false);
			add(t, " ");
			value(t, json_object_get(v, "right"), false);
			add(t, " / ");
			list(t, json_array_get(and, 1), ",", false);
			return;
		}
		value(t, left, false);
		/* nft leaves out an implicit == or in, but not after a mask. */
		if ((strcmp(op, "==") && strcmp(op, "in")) || and)
			add(t, " %s", op);
		add(t, " ");
		if (hex(left) && json_is_integer(json_object_get(v, "right")))
			add(t, json_object_get(left, "payload") ? "0x%llx" : "0x%08llx",
			    (unsigned long long)json_integer_value(json_object_get(v, "right")));
		else
			value(t, json_object_get(v, "right"), quoted(left));
	} else if (!strcmp(k, "counter")) {
		add(t, "counter");
		if (json_object_get(v, "packets"))
			add(t, " packets %lld bytes %lld",
			    (long long)json_integer_value(json_object_get(v, "packets")),
			    (long long)json_integer_value(json_object_get(v, "bytes")));
	} else if (!strcmp(k, "reject")) {
		const char *type = json_string_value(json_object_get(v, "type"));
		const char *code = json_string_value(json_object_get(v, "expr"));

		add(t, "reject");
		/* port-unreachable is the default, which nft does not write. */
		if (type && code && strcmp(code, "port-unreachable"))
			add(t, " with %s %s", type, code);
		else if (type && !code)
			add(t, " with %s", type);
	} else if (!strcmp(k, "vmap")) {
		value(t, json_object_get(v, "key"), false);
		add(t, " vmap ");
		value(t, json_object_get(v, "data"), false);
	} else if (!strcmp(k, "limit")) {
		add(t, "limit rate %lld/%s", (long long)json_integer_value(json_object_get(v, "rate")),
		    json_string_value(json_object_get(v, "per")) ?: "second");
	} else if (!strcmp(k, "log")) {
		add(t, "log");
		if ((o = json_object_get(v, "prefix")))
			add(t, " prefix \"%s\"", json_string_value(o) ?: "");
		if ((o = json_object_get(v, "group")))
			add(t, " group %lld", (long long)json_integer_value(o));
	} else if (!strcmp(k, "xt")) {
		add(t, "xt %s %s", json_string_value(json_object_get(v, "type")) ?: "?",
		    json_string_value(json_object_get(v, "name")) ?: "?");
	} else if (json_is_null(v) || json_object_get(v, "target")) {
		verdict(t, e);
	} else {
		add(t, "%s", k);
	}
}

const char *rs_render_rule(struct rs_model *m, json_t *expr)
{
	struct text t = { .len = 0 };
	size_t i;
	json_t *e;

	t.b[0] = '\0';
	json_array_foreach(expr, i, e) {
		if (i)
			add(&t, " ");
		statement(&t, e);
	}
	return rs_strdup(m, t.b);
}
