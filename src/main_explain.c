/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rstwatch explain: classify the resets of pcap/pcapng captures. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "classify.h"
#include "config.h"
#include "event.h"
#include "main.h"
#include "peers.h"
#include "pipeline.h"
#include "report_html.h"
#include "ruleset.h"
#include "ruleset_event.h"

const char usage_explain[] =
"usage: rstwatch explain [OPTIONS] FILE...\n"
"       rstwatch explain [OPTIONS] -i IFACE\n"
"\n"
"Reads pcap or pcapng captures (Ethernet with 802.1Q/QinQ tags or 802.3 LLC/SNAP,\n"
"FDDI, Linux cooked SLL and SLL2, raw IP, BSD/OpenBSD loopback; IPv4 and IPv6;\n"
"pcapng files whose interfaces differ in link type), follows every TCP\n"
"connection in them and classifies each reset packet. Each file is read on its\n"
"own: connections do not carry over from one file to the next. FILE '-' is\n"
"standard input: a pipe (tcpdump -U -w - | rstwatch explain -) is read live.\n"
"TCP inside GRE (also ERSPAN I/II/III, Aruba 802.11), VXLAN (UDP 4789) and\n"
"Geneve (UDP 6081) is decoded; the event names the outermost tunnel.\n"
"\n"
"Output, without --json: one line per reset, in plain English, with the next\n"
"troubleshooting step:\n"
"  TIME SRC:PORT > DST:PORT FLAGS CLASS (SENDER, ORIGIN, CONFIDENCE): ADVICE [EVIDENCE]\n"
"(a tunnelled one ends in '(in TYPE OUTER-SRC > OUTER-DST key K)'), then a\n"
"summary by class with the 3 addresses that sent most of each class.\n"
"Consecutive resets alike but for their time and the higher of their two ports\n"
"(same class, sender, origin, flags, evidence, addresses, lower port, tunnel)\n"
"are printed once, followed, when the run ends, by one line\n"
"  ^ N more alike until TIME (ports A-B)\n"
"The summary counts every reset. With --json: one JSON object per reset\n"
"(Suricata EVE envelope, event_type \"rst\"; pcap_filename names the file),\n"
"nothing else on standard output; the summary goes to standard error.\n"
"\n"
"Classes: refused, syn-conflict, accept-overflow, half-open, firewall,\n"
"time-wait, abort, idle-timeout, unread-data, injected, unknown.\n"
"\n"
"A reset that may be forged (its TTL, hop limit or IP ID unlike its claimed\n"
"sender's; origin 'middlebox') is decided only after the 2 s of the capture\n"
"that follow it (or its end): if the claimed sender then sends what a host that\n"
"reset would not (data past the reset, an ACK that moves), the reset is\n"
"'injected', evidence sender-alive-after-reset. Events stay in capture order.\n"
"On a live source (a pipe, -i) those 2 s also pass in wall time while nothing\n"
"arrives: every event is out at most 2 s after its reset was read.\n"
"\n"
"Options:\n"
"  -j, --json               JSON lines instead of text\n"
"  -q, --quiet              no summary\n"
"  -f, --filter EXPR        only frames that match a pcap filter (tcpdump's\n"
"                           syntax), compiled for each file's link type;\n"
"                           filter by host or port, not by TCP flags, or the\n"
"                           resets lose their connections' history\n"
"  -i, --interface IFACE    capture live from IFACE (libpcap, not promiscuous)\n"
"                           until SIGINT or SIGTERM, then print the summary\n"
"      --report FILE        also write a self-contained HTML report to FILE\n"
"      --no-collapse        one text line per reset, alike or not\n"
"      --ruleset FILE       the gateway's ruleset (nft -j list ruleset > FILE):\n"
"                           each reset its firewall sent (origin local-firewall)\n"
"                           names the rule that sent it, as the daemon does\n"
"      --max-flows N        connections tracked at once per file; the least\n"
"                           recently seen is evicted beyond that (default 262144)\n"
"      --idle-threshold S   silence, in seconds, after which a reset counts as an\n"
"                           idle timeout (default 300)\n"
"      --ttl-tolerance N    TTL/hop-limit drift still taken as the same sender\n"
"                           (default 1)\n"
"  -h, --help               this help\n"
"\n"
"Frames that are not TCP over IP, non-first fragments, truncated and malformed\n"
"packets are counted in the summary and otherwise skipped. Frames of a link type\n"
"rstwatch cannot decode are counted too, and named in a warning on standard error.\n"
"\n"
"Exit status: 0 every file read to its end (-i: stopped by SIGINT/SIGTERM)\n"
"and every frame's link type decoded; 1 a partial answer: a capture was\n"
"truncated or damaged (what came before the damage is reported), some of its\n"
"frames have a link type rstwatch cannot decode (their resets are missing), or\n"
"-i: the kernel dropped packets or the capture failed on the way; 2 a file or\n"
"the interface could not be read, a bad filter (pcap's message), a report that\n"
"cannot be written, or bad usage.\n";

/* The text lines of a run of alike resets: the first is printed, the rest
 * counted, then told in one line when the run ends. */
struct run {
	bool open;
	uint8_t cls, sender, origin, flags, family, tunnel;
	uint8_t src[16], dst[16];
	uint16_t low_port;            /* the port that stays (the service's, as a rule) */
	uint16_t tunnel_zone;
	char evidence[RST_EVIDENCE_MAX * (RST_EVIDENCE_LEN + 1)];
	uint64_t more, last_ts_us;
	uint16_t port_min, port_max;  /* of the other port, over the whole run */
};

struct explain_out {
	bool json, collapse;
	uint64_t by_class[RST_CLASS_COUNT];
	uint64_t resets, collapsed;
	struct run run;
	struct peers peers;
	struct report *report;
	bool report_short;            /* the report misses events: no memory */
	const struct rs_model *ruleset;  /* --ruleset: name the rules of firewall resets */
};

#define TOP_PEERS 3

static void evidence_str(const struct rst_verdict *v, char *buf, size_t size)
{
	size_t n = 0;
	unsigned i;

	buf[0] = 0;
	for (i = 0; i < v->n_evidence && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? " " : "", v->evidence[i]);
}

/* ev as the run it would start. */
static void run_of(const struct rst_event *ev, struct run *r)
{
	const struct tcp_packet *p = ev->pkt;
	bool src_low = p->sport <= p->dport;

	memset(r, 0, sizeof(*r));
	r->open = true;
	r->cls = (uint8_t)ev->verdict.cls;
	r->sender = (uint8_t)ev->verdict.sender;
	r->origin = (uint8_t)ev->verdict.origin;
	r->flags = p->flags;
	r->family = p->family;
	r->tunnel = p->tunnel.type;
	r->tunnel_zone = p->tunnel_zone;
	memcpy(r->src, p->src, sizeof(r->src));
	memcpy(r->dst, p->dst, sizeof(r->dst));
	r->low_port = src_low ? p->sport : p->dport;
	r->port_min = r->port_max = src_low ? p->dport : p->sport;
	r->last_ts_us = ev->ts_us;
	evidence_str(&ev->verdict, r->evidence, sizeof(r->evidence));
}

static bool run_alike(const struct run *a, const struct run *b)
{
	return a->cls == b->cls && a->sender == b->sender && a->origin == b->origin &&
	       a->flags == b->flags && a->family == b->family && a->tunnel == b->tunnel &&
	       a->tunnel_zone == b->tunnel_zone && a->low_port == b->low_port &&
	       memcmp(a->src, b->src, sizeof(a->src)) == 0 &&
	       memcmp(a->dst, b->dst, sizeof(a->dst)) == 0 &&
	       strcmp(a->evidence, b->evidence) == 0;
}

/* The line that ends a run of alike resets; -1 if it cannot be written. */
static int run_close(struct run *r)
{
	time_t sec = (time_t)(r->last_ts_us / 1000000);
	char when[32], ports[32] = "";
	struct tm tm;
	int rc = 0;

	if (r->open && r->more) {
		if (!gmtime_r(&sec, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm))
			strcpy(when, "?");
		if (r->port_min != r->port_max)
			snprintf(ports, sizeof(ports), " (ports %u-%u)", r->port_min, r->port_max);
		rc = printf("  ^ %llu more alike until %s.%06u%s\n", (unsigned long long)r->more,
			    when, (unsigned)(r->last_ts_us % 1000000), ports) < 0 ? -1 : 0;
	}
	r->open = false;
	return rc;
}

static int explain_event(const struct rst_event *given, void *arg)
{
	struct explain_out *o = arg;
	char buf[EVENT_BUF_SIZE];
	struct rst_event named = *given;
	const struct rst_event *ev = &named;
	struct rule_names rn;
	struct run r;
	int n;

	ruleset_name_event(o->ruleset, false, NULL, NULL, &named, &rn);
	n = o->json ? event_json_format(ev, buf, sizeof(buf))
		    : event_text_format(ev, buf, sizeof(buf));
	if (n < 0) {
		fprintf(stderr, "rstwatch: event too large to format, skipped\n");
		return 0;
	}
	o->by_class[ev->verdict.cls]++;
	o->resets++;
	peers_add(&o->peers, ev->verdict.cls, ev->pkt->family, ev->pkt->src);
	if (o->report && report_add(o->report, ev))
		o->report_short = true;
	if (!o->json && o->collapse) {
		run_of(ev, &r);
		if (o->run.open && run_alike(&o->run, &r)) {
			o->run.more++;
			o->collapsed++;
			o->run.last_ts_us = r.last_ts_us;
			if (r.port_min < o->run.port_min)
				o->run.port_min = r.port_min;
			if (r.port_max > o->run.port_max)
				o->run.port_max = r.port_max;
			return 0;
		}
		if (run_close(&o->run))
			return -1;
		o->run = r;
	}
	if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
		return -1;
	return 0;
}

/* A live source's stop request (SIGINT, SIGTERM): the handler only sets it. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Without SA_RESTART: a blocked poll() returns at once. */
static void catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void on_live_ready(const char *source, int linktype, void *arg)
{
	(void)arg;
	fprintf(stderr, "rstwatch explain: capturing on %s, link type %s\n", source,
		capture_linktype_name(linktype));
}

static void print_top_peers(FILE *f, const struct peers *peers, enum rst_class c)
{
	struct peer_count top[TOP_PEERS];
	char a[INET6_ADDRSTRLEN];
	unsigned int i, n = peers_top(peers, c, top, TOP_PEERS);

	for (i = 0; i < n; i++)
		fprintf(f, "%s %s (%llu)", i ? "," : "   from", addr_str(top[i].family, top[i].addr, a),
			(unsigned long long)top[i].count);
	if (n)
		fprintf(f, "\n");
}

static void print_summary(FILE *f, const struct explain_out *o, const struct capture_stats *t,
			  unsigned files, bool live)
{
	int c;

	fprintf(f, "summary: %llu reset%s in %u %s%s (%llu frames, %llu TCP segments",
		(unsigned long long)o->resets, o->resets == 1 ? "" : "s", files,
		live ? "capture" : "file", files == 1 ? "" : "s", (unsigned long long)t->frames,
		(unsigned long long)t->by_result[DECODE_OK]);
	for (c = TUNNEL_NONE + 1; c < TUNNEL_TYPE_COUNT; c++)
		if (t->tunnelled[c])
			fprintf(f, ", %llu in %s", (unsigned long long)t->tunnelled[c],
				tunnel_type_name((enum tunnel_type)c));
	for (c = DECODE_OK + 1; c < DECODE_RESULT_COUNT; c++)
		if (t->by_result[c])
			fprintf(f, "; %llu %s", (unsigned long long)t->by_result[c],
				decode_result_name((enum decode_result)c));
	if (t->filtered)
		fprintf(f, "; %llu left out by the filter", (unsigned long long)t->filtered);
	if (t->copies)
		fprintf(f, "; %llu second cop%s of forwarded or looped-back packets judged once",
			(unsigned long long)t->copies, t->copies == 1 ? "y" : "ies");
	if (t->dropped)
		fprintf(f, "; %llu dropped by the kernel, never seen",
			(unsigned long long)t->dropped);
	fprintf(f, ")\n");
	for (c = 0; c < RST_CLASS_COUNT; c++) {
		if (!o->by_class[c])
			continue;
		fprintf(f, "  %-16s %llu\n", rst_class_name((enum rst_class)c),
			(unsigned long long)o->by_class[c]);
		print_top_peers(f, &o->peers, (enum rst_class)c);
	}
	if (o->collapsed)
		fprintf(f, "%llu reset%s shown as '^ N more alike' lines\n",
			(unsigned long long)o->collapsed, o->collapsed == 1 ? "" : "s");
	if (t->hosts_evicted)
		fprintf(f, "host TTL baselines: %llu evicted (more than %u hosts: a reset from "
			"one evicted is judged against its flow alone)\n",
			(unsigned long long)t->hosts_evicted, HOST_TTL_ENTRIES);
	if (t->lookahead.held)
		fprintf(f, "look-ahead: %llu suspect reset%s, %llu injected (claimed sender alive "
			"within %llu s after)\n",
			(unsigned long long)t->lookahead.held, t->lookahead.held == 1 ? "" : "s",
			(unsigned long long)t->lookahead.alive, LOOKAHEAD_WINDOW_US / 1000000);
	if (t->lookahead.cut)
		fprintf(f, "look-ahead: %llu suspect reset%s decided before %s window ended "
			"(%u events were waiting)\n", (unsigned long long)t->lookahead.cut,
			t->lookahead.cut == 1 ? "" : "s", t->lookahead.cut == 1 ? "its" : "their",
			LOOKAHEAD_MAX);
}

/* Frames skipped for their link type make the answer partial: say so. */
static bool warn_linktypes(const char *file, const struct capture_stats *st)
{
	uint64_t listed = 0, n = st->by_result[DECODE_LINKTYPE];
	unsigned int i;

	if (n == 0)
		return false;
	fflush(stdout);
	for (i = 0; i < st->n_unknown_linktypes; i++) {
		const struct capture_linktype_count *c = &st->unknown_linktypes[i];

		fprintf(stderr, "rstwatch explain: %s: %llu frame%s of link type %d (%s) cannot "
			"be decoded\n", file, (unsigned long long)c->frames,
			c->frames == 1 ? "" : "s", c->linktype, capture_linktype_name(c->linktype));
		listed += c->frames;
	}
	if (n > listed)
		fprintf(stderr, "rstwatch explain: %s: %llu more frames of other link types cannot "
			"be decoded\n", file, (unsigned long long)(n - listed));
	return true;
}

static void add_stats(struct capture_stats *total, const struct capture_stats *st)
{
	int c;

	total->frames += st->frames;
	for (c = 0; c < DECODE_RESULT_COUNT; c++)
		total->by_result[c] += st->by_result[c];
	for (c = 0; c < TUNNEL_TYPE_COUNT; c++)
		total->tunnelled[c] += st->tunnelled[c];
	total->filtered += st->filtered;
	total->dropped += st->dropped;
	total->copies += st->copies;
	total->hosts_evicted += st->hosts_evicted;
	total->lookahead.held += st->lookahead.held;
	total->lookahead.alive += st->lookahead.alive;
	total->lookahead.cut += st->lookahead.cut;
}

/* What one source's read means for the exit status; prints why it is not 0. */
static int judge_read(const char *src, bool iface, enum capture_result r,
		      const struct capture_stats *st, const char *err, unsigned *files)
{
	int status = EXIT_OKAY;

	if (r != CAPTURE_UNREADABLE && r != CAPTURE_FILTER && warn_linktypes(src, st))
		status = EXIT_PARTIAL;
	fflush(stdout);
	switch (r) {
	case CAPTURE_OK:
		(*files)++;
		break;
	case CAPTURE_TRUNCATED:
		(*files)++;
		fprintf(stderr, "rstwatch explain: %s: %s after %llu frames (%llu resets "
			"reported): %s\n", src, iface ? "capture failed" : "truncated",
			(unsigned long long)st->frames, (unsigned long long)st->resets, err);
		status = EXIT_PARTIAL;
		break;
	case CAPTURE_CALLBACK:
		fprintf(stderr, "rstwatch explain: cannot write output: %s\n", strerror(errno));
		return -1;
	case CAPTURE_FILTER:
		fprintf(stderr, "rstwatch explain: %s: %s\n", src, err);
		return EXIT_USAGE;
	default:
		fprintf(stderr, "rstwatch explain: %s: cannot %s: %s\n", src,
			iface ? "capture" : "read capture", err);
		return EXIT_USAGE;
	}
	if (st->dropped) {
		fprintf(stderr, "rstwatch explain: %s: the kernel dropped %llu packets: their "
			"resets are missing\n", src, (unsigned long long)st->dropped);
		status = EXIT_PARTIAL;
	}
	return status;
}

static int worse(int status, int s)
{
	return s > status ? s : status;
}

int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "filter", required_argument, NULL, 'f' },
		{ "interface", required_argument, NULL, 'i' },
		{ "report", required_argument, NULL, 'R' },
		{ "no-collapse", no_argument, NULL, 'C' },
		{ "ruleset", required_argument, NULL, 'S' },
		{ "max-flows", required_argument, NULL, 'F' },
		{ "idle-threshold", required_argument, NULL, 'I' },
		{ "ttl-tolerance", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct explain_out out = { .collapse = true };
	struct capture_stats total = { 0 };
	struct capture_opts copts = { .stop = &stop_requested, .ready = on_live_ready };
	struct classify_settings cs;
	unsigned long max_flows = 262144, v;
	const char *iface = NULL, *report_path = NULL, *ruleset_path = NULL;
	struct rs_model *ruleset = NULL;
	FILE *report_file = NULL;
	bool quiet = false, live = false;
	int opt, i, status = EXIT_OKAY;
	unsigned files = 0;
	char err[512];

	classify_settings_default(&cs);
	optind = 1;
	opterr = 0;    /* usage_bad_option names the command, getopt would not */
	while ((opt = getopt_long(argc, argv, "jqf:i:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			out.json = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'f':
			copts.filter = optarg;
			break;
		case 'i':
			iface = optarg;
			break;
		case 'R':
			report_path = optarg;
			break;
		case 'C':
			out.collapse = false;
			break;
		case 'S':
			ruleset_path = optarg;
			break;
		case 'F':
			if (config_parse_uint(optarg, 1, 1u << 28, &max_flows)) {
				fprintf(stderr, "rstwatch explain: --max-flows wants 1..%u, not '%s'\n",
					1u << 28, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'I':
			if (config_parse_uint(optarg, 1, 86400 * 30, &v)) {
				fprintf(stderr, "rstwatch explain: --idle-threshold wants seconds "
					"(1..2592000), not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			cs.idle_threshold_s = (uint32_t)v;
			break;
		case 'T':
			if (config_parse_uint(optarg, 0, 64, &v)) {
				fprintf(stderr, "rstwatch explain: --ttl-tolerance wants 0..64, "
					"not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			cs.ttl_tolerance = (uint8_t)v;
			break;
		case 'h':
			fputs(usage_explain, stdout);
			return EXIT_OKAY;
		default:
			return usage_bad_option("explain", argv[optind - 1]);
		}
	}
	if (iface && optind < argc) {
		fprintf(stderr, "rstwatch explain: -i reads an interface, not files ('%s')\n",
			argv[optind]);
		return EXIT_USAGE;
	}
	if (!iface && optind >= argc) {
		fputs("rstwatch explain: no capture file given\n", stderr);
		return usage_hint("explain");
	}
	if (copts.filter && capture_filter_check(copts.filter, err, sizeof(err))) {
		fprintf(stderr, "rstwatch explain: bad filter '%s': %s\n", copts.filter, err);
		return EXIT_USAGE;
	}
	if (ruleset_path) {
		ruleset = ruleset_load_file(ruleset_path, err, sizeof(err));
		if (!ruleset) {
			fprintf(stderr, "rstwatch explain: --ruleset %s: %s\n", ruleset_path, err);
			return EXIT_USAGE;
		}
		out.ruleset = ruleset;
	}
	if (report_path) {
		/* Opened first: a report that cannot be written fails before a long read. */
		report_file = fopen(report_path, "w");
		out.report = report_file ? report_new() : NULL;
		if (!out.report) {
			fprintf(stderr, "rstwatch explain: --report %s: %s\n", report_path,
				strerror(errno));
			if (report_file)
				fclose(report_file);
			ruleset_free(ruleset);
			return EXIT_USAGE;
		}
	}
	for (i = optind; i < argc; i++)
		live |= strcmp(argv[i], "-") == 0;
	if (iface || live) {
		/* Each event out as its line is complete; Ctrl-C ends the read. */
		setvbuf(stdout, NULL, _IOLBF, 0);
		catch_stop_signals();
	}
	/* One pass per file, or one for the interface. */
	for (i = iface ? argc - 1 : optind; i < argc; i++) {
		const char *src = iface ? iface : argv[i];
		struct pipeline pl;
		struct capture_stats st;
		enum capture_result r;
		int s;

		if (pipeline_init(&pl, (uint32_t)max_flows)) {
			fprintf(stderr, "rstwatch explain: cannot allocate %lu flows: %s\n",
				max_flows, strerror(errno));
			status = EXIT_USAGE;
			break;
		}
		pl.settings = cs;
		err[0] = 0;
		r = iface ? capture_live(iface, &pl, &copts, explain_event, &out, &st, err,
					 sizeof(err))
			  : capture_explain(src, &pl, &copts, explain_event, &out, &st, err,
					    sizeof(err));
		{
			struct host_ttl_stats hs;

			host_ttl_stats(pl.hosts, &hs);
			st.hosts_evicted = hs.evicted;
		}
		pipeline_free(&pl);
		add_stats(&total, &st);
		s = judge_read(src, iface, r, &st, err, &files);
		if (s < 0) {
			status = EXIT_USAGE;
			break;
		}
		status = worse(status, s);
		if (run_close(&out.run)) {	/* runs do not span files */
			status = EXIT_USAGE;
			break;
		}
		if (stop_requested)
			break;		/* Ctrl-C on a pipe: the files after it are not read */
	}
	if (!quiet)
		print_summary(out.json ? stderr : stdout, &out, &total, files, iface != NULL);
	if (out.report) {
		const char *const *srcs = iface ? &iface : (const char *const *)(argv + optind);
		unsigned int n = iface ? 1 : (unsigned int)(argc - optind);

		if (out.report_short)
			fprintf(stderr, "rstwatch explain: --report: out of memory, the report "
				"misses events\n");
		if (report_write(out.report, report_file, srcs, n, &total, &out.peers) ||
		    fclose(report_file)) {
			fprintf(stderr, "rstwatch explain: --report %s: %s\n", report_path,
				strerror(errno));
			status = EXIT_USAGE;
		}
		report_free(out.report);
	}
	peers_free(&out.peers);
	ruleset_free(ruleset);
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "rstwatch explain: cannot write output: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	return status;
}
