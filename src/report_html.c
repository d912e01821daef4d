/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report_html.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* The timeline has at most this many bars. */
#define TIMELINE_BUCKETS 60
/* Flows listed, by number of resets. */
#define TOP_FLOWS 20
/* Flows remembered (each with its first line); resets of more are still in
 * the timeline and the summary. */
#define FLOWS_MAX 65536
#define TOP_PEERS 3

struct report_reset {
	uint64_t ts_us;
	uint8_t cls;
};

struct report_flow {
	uint64_t flow_id;
	const char *source;          /* pcap_filename: flow ids are per file */
	uint64_t resets, first_ts_us, last_ts_us;
	char *line;                  /* the first reset's plain-English line */
};

struct report {
	struct report_reset *resets;
	size_t n, cap;
	struct report_flow *flows;   /* open addressing, FLOWS_MAX * 2 slots */
	size_t n_flows;
	uint64_t by_class[RST_CLASS_COUNT];
	uint64_t untracked_flows;
};

struct report *report_new(void)
{
	struct report *r = calloc(1, sizeof(*r));

	if (r && !(r->flows = calloc(FLOWS_MAX * 2, sizeof(*r->flows)))) {
		free(r);
		return NULL;
	}
	return r;
}

void report_free(struct report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < FLOWS_MAX * 2; i++)
		free(r->flows[i].line);
	free(r->flows);
	free(r->resets);
	free(r);
}

static struct report_flow *flow_slot(struct report *r, uint64_t id, const char *source)
{
	size_t i = (size_t)(id ^ (uintptr_t)source) & (FLOWS_MAX * 2 - 1);

	for (;; i = (i + 1) & (FLOWS_MAX * 2 - 1)) {
		struct report_flow *f = &r->flows[i];

		if (!f->line || (f->flow_id == id && f->source == source))
			return f;
	}
}

int report_add(struct report *r, const struct rst_event *ev)
{
	struct report_flow *f;
	char line[EVENT_BUF_SIZE];

	r->by_class[ev->verdict.cls]++;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		struct report_reset *n = realloc(r->resets, cap * sizeof(*n));

		if (!n)
			return -1;
		r->resets = n;
		r->cap = cap;
	}
	r->resets[r->n].ts_us = ev->ts_us;
	r->resets[r->n++].cls = (uint8_t)ev->verdict.cls;

	f = flow_slot(r, ev->flow.flow_id, ev->pcap_filename);
	if (!f->line) {
		if (r->n_flows == FLOWS_MAX) {
			r->untracked_flows++;
			return 0;
		}
		if (event_text_format(ev, line, sizeof(line)) < 0)
			strcpy(line, "(line too long)\n");
		if (!(f->line = strdup(line)))
			return -1;
		f->flow_id = ev->flow.flow_id;
		f->source = ev->pcap_filename;
		f->first_ts_us = ev->ts_us;
		r->n_flows++;
	}
	f->resets++;
	f->last_ts_us = ev->ts_us;
	return 0;
}

/* ---- escaping ------------------------------------------------------------ */

/* Text into HTML markup (element content or a quoted attribute). */
static void put_html(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default:
			/* Control bytes would be invalid HTML: shown as U+FFFD. */
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputs("&#xfffd;", out);
			else
				fputc(*s, out);
		}
	}
}

/* A JSON string inside <script>: besides JSON's own escapes, <, > and & as
 * \u escapes, so that no "</script>" or "<!--" can end or bend the element. */
static void put_script_json_str(FILE *out, const char *s)
{
	size_t size = 6 * strlen(s) + 3;
	char *buf = malloc(size);
	int n = buf ? json_string_script(s, buf, size) : -1;

	if (n > 0)
		fwrite(buf, 1, (size_t)n, out);
	else
		fputs("\"\"", out);    /* out of memory: the data block stays JSON */
	free(buf);
}

static void put_time(FILE *out, uint64_t ts_us)
{
	char when[40];

	event_time_text(ts_us, when);
	fputs(when, out);
}

/* ---- the page ------------------------------------------------------------ */

static const char page_style[] =
"body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;background:#fff}"
"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}"
"table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
"text-align:left;vertical-align:top}th{background:#f2f2f2}td.n{text-align:right}"
"code,.line{font-family:ui-monospace,monospace;font-size:12px}"
".line{white-space:pre-wrap;max-width:70em}"
"#legend span{display:inline-block;margin-right:1em}"
"#legend i{display:inline-block;width:10px;height:10px;margin-right:4px}";

/* Builds the timeline (a stacked bar per time bucket) and its legend from the
 * data element, with DOM calls and textContent only. */
static const char page_script[] =
"(function(){'use strict';"
"var d=JSON.parse(document.getElementById('rstwatch-data').textContent);"
"var NS='http://www.w3.org/2000/svg',W=900,H=220,P=30;"
"var colors=['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2',"
"'#7f7f7f','#bcbd22','#17becf','#444444'];"
"var svg=document.createElementNS(NS,'svg');"
"svg.setAttribute('id','timeline-svg');svg.setAttribute('width',W);svg.setAttribute('height',H+P);"
"var max=1,i,j,k;"
"for(i=0;i<d.buckets;i++){var t=0;for(k in d.series)t+=d.series[k][i];if(t>max)max=t;}"
"var bw=(W-P)/Math.max(d.buckets,1),bars=0;"
"var axis=document.createElementNS(NS,'line');"
"axis.setAttribute('x1',P);axis.setAttribute('x2',W);axis.setAttribute('y1',H);"
"axis.setAttribute('y2',H);axis.setAttribute('stroke','#888');svg.appendChild(axis);"
"for(i=0;i<d.buckets;i++){var y=H;"
"for(j=0;j<d.classes.length;j++){var c=d.classes[j],v=d.series[c][i];if(!v)continue;"
"var h=v/max*(H-10),r=document.createElementNS(NS,'rect');"
"r.setAttribute('x',P+i*bw+1);r.setAttribute('width',Math.max(bw-2,1));"
"r.setAttribute('y',y-h);r.setAttribute('height',h);"
"r.setAttribute('fill',colors[d.class_index[j]%colors.length]);r.setAttribute('class','bar');"
"var tt=document.createElementNS(NS,'title');tt.textContent=c+': '+v;r.appendChild(tt);"
"svg.appendChild(r);y-=h;bars++;}}"
"var lab=function(x,y,s,a){var e=document.createElementNS(NS,'text');e.setAttribute('x',x);"
"e.setAttribute('y',y);e.setAttribute('font-size','11');e.setAttribute('text-anchor',a);"
"e.textContent=s;svg.appendChild(e);};"
"lab(P,H+16,d.start,'start');lab(W,H+16,d.end,'end');lab(P-4,12,String(max),'end');"
"document.getElementById('timeline').appendChild(svg);"
"var lg=document.getElementById('legend');"
"for(j=0;j<d.classes.length;j++){var s=document.createElement('span'),b=document.createElement('i');"
"b.style.background=colors[d.class_index[j]%colors.length];s.appendChild(b);"
"s.appendChild(document.createTextNode(d.classes[j]+' ('+d.totals[j]+')'));lg.appendChild(s);}"
"var cap=document.getElementById('timeline-caption');"
"cap.textContent=d.total+' resets from '+d.sources.join(', ')+', '+d.buckets+' bars of '+d.bucket_s+' s';"
"document.body.setAttribute('data-timeline-bars',String(bars));"
"})();";

static void write_data(FILE *out, const struct report *r, const char *const *sources,
		       unsigned int n_sources)
{
	uint64_t first = UINT64_MAX, last = 0, width, *series;
	unsigned int nb = 1, c, b;
	size_t i;
	unsigned int any = 0;	/* items written in the current array */

	for (i = 0; i < r->n; i++) {
		if (r->resets[i].ts_us < first)
			first = r->resets[i].ts_us;
		if (r->resets[i].ts_us > last)
			last = r->resets[i].ts_us;
	}
	if (!r->n)
		first = last = 0;
	/* Whole seconds per bar when the capture spans more than a bar's worth. */
	width = (last - first) / TIMELINE_BUCKETS + 1;
	if (width > 1000000)
		width = (width + 999999) / 1000000 * 1000000;
	if (r->n)
		nb = (unsigned int)((last - first) / width) + 1;
	series = calloc((size_t)nb * RST_CLASS_COUNT, sizeof(*series));
	if (series)
		for (i = 0; i < r->n; i++)
			series[(size_t)r->resets[i].cls * nb +
			       (size_t)((r->resets[i].ts_us - first) / width)]++;

	fputs("<script type=\"application/json\" id=\"rstwatch-data\">{\"sources\":[", out);
	for (i = 0; i < n_sources; i++) {
		if (i)
			fputc(',', out);
		put_script_json_str(out, sources[i]);
	}
	fprintf(out, "],\"total\":%zu,\"buckets\":%u,\"bucket_s\":%.6g,\"start\":\"", r->n, nb,
		(double)width / 1e6);
	put_time(out, first);
	fputs("\",\"end\":\"", out);
	put_time(out, last);
	fputs("\",\"classes\":[", out);
	for (c = 0; c < RST_CLASS_COUNT; c++)
		if (r->by_class[c])
			fprintf(out, "%s\"%s\"", any++ ? "," : "", rst_class_name((enum rst_class)c));
	fputs("],\"class_index\":[", out);
	for (any = 0, c = 0; c < RST_CLASS_COUNT; c++)
		if (r->by_class[c])
			fprintf(out, "%s%u", any++ ? "," : "", c);
	fputs("],\"totals\":[", out);
	for (any = 0, c = 0; c < RST_CLASS_COUNT; c++)
		if (r->by_class[c])
			fprintf(out, "%s%llu", any++ ? "," : "", (unsigned long long)r->by_class[c]);
	fputs("],\"series\":{", out);
	for (any = 0, c = 0; c < RST_CLASS_COUNT; c++) {
		if (!r->by_class[c])
			continue;
		fprintf(out, "%s\"%s\":[", any++ ? "," : "", rst_class_name((enum rst_class)c));
		for (b = 0; b < nb; b++)
			fprintf(out, "%s%llu", b ? "," : "",
				series ? (unsigned long long)series[(size_t)c * nb + b] : 0ULL);
		fputc(']', out);
	}
	fputs("}}</script>\n", out);
	free(series);
}

static void write_summary(FILE *out, const struct report *r, const struct capture_stats *t,
			  const struct peers *peers)
{
	struct peer_count top[TOP_PEERS];
	char a[INET6_ADDRSTRLEN];
	unsigned int c, k, n;

	fprintf(out, "<p>%zu resets in %llu frames (%llu TCP segments).</p>\n", r->n,
		(unsigned long long)t->frames, (unsigned long long)t->by_result[DECODE_OK]);
	fputs("<table id=\"summary\"><tr><th>class</th><th>resets</th>"
	      "<th>top senders</th></tr>\n", out);
	for (c = 0; c < RST_CLASS_COUNT; c++) {
		if (!r->by_class[c])
			continue;
		fprintf(out, "<tr><td>%s</td><td class=\"n\">%llu</td><td>",
			rst_class_name((enum rst_class)c), (unsigned long long)r->by_class[c]);
		n = peers_top(peers, (enum rst_class)c, top, TOP_PEERS);
		for (k = 0; k < n; k++)
			fprintf(out, "%s<code>%s</code> (%llu)", k ? ", " : "",
				addr_str(top[k].family, top[k].addr, a),
				(unsigned long long)top[k].count);
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
}

static int by_resets(const void *x, const void *y)
{
	const struct report_flow *a = *(const struct report_flow *const *)x;
	const struct report_flow *b = *(const struct report_flow *const *)y;

	if (a->resets != b->resets)
		return a->resets < b->resets ? 1 : -1;
	return a->first_ts_us < b->first_ts_us ? -1 : a->first_ts_us > b->first_ts_us;
}

static void write_flows(FILE *out, const struct report *r)
{
	const struct report_flow **all = malloc((r->n_flows + 1) * sizeof(*all));
	size_t i, n = 0;

	fputs("<table id=\"flows\"><tr><th>resets</th><th>first</th><th>last</th>"
	      "<th>first reset, explained</th></tr>\n", out);
	if (all) {
		for (i = 0; i < FLOWS_MAX * 2; i++)
			if (r->flows[i].line)
				all[n++] = &r->flows[i];
		qsort(all, n, sizeof(*all), by_resets);
	}
	for (i = 0; i < n && i < TOP_FLOWS; i++) {
		fprintf(out, "<tr><td class=\"n\">%llu</td><td>", (unsigned long long)all[i]->resets);
		put_time(out, all[i]->first_ts_us);
		fputs("</td><td>", out);
		put_time(out, all[i]->last_ts_us);
		fputs("</td><td class=\"line\">", out);
		put_html(out, all[i]->line);
		if (all[i]->source) {
			fputs(" <small>(", out);
			put_html(out, all[i]->source);
			fputs(")</small>", out);
		}
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
	if (r->n_flows > TOP_FLOWS)
		fprintf(out, "<p>%zu more flows with resets not listed.</p>\n", r->n_flows - TOP_FLOWS);
	if (r->untracked_flows)
		fprintf(out, "<p>%llu resets of flows beyond the %u remembered are in the timeline "
			"only.</p>\n", (unsigned long long)r->untracked_flows, FLOWS_MAX);
	free(all);
}

int report_write(const struct report *r, FILE *out, const char *const *sources,
		 unsigned int n_sources, const struct capture_stats *total,
		 const struct peers *peers)
{
	unsigned int i;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n<title>rstwatch: ", out);
	for (i = 0; i < n_sources; i++) {
		fputs(i ? ", " : "", out);
		put_html(out, sources[i]);
	}
	fprintf(out, "</title>\n<style>%s</style></head>\n<body>\n<h1>TCP resets explained</h1>\n"
		"<p>Sources:", page_style);
	for (i = 0; i < n_sources; i++) {
		fputs(i ? ", <code>" : " <code>", out);
		put_html(out, sources[i]);
		fputs("</code>", out);
	}
	fputs(".</p>\n<h2>Timeline</h2>\n<p id=\"timeline-caption\"></p>\n"
	      "<div id=\"timeline\"></div>\n<div id=\"legend\"></div>\n<h2>Summary</h2>\n", out);
	write_summary(out, r, total, peers);
	fprintf(out, "<h2>Flows with most resets</h2>\n");
	write_flows(out, r);
	write_data(out, r, sources, n_sources);
	fprintf(out, "<script>%s</script>\n</body></html>\n", page_script);
	return ferror(out) ? -1 : 0;
}
