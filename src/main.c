/* rstwatch command line. Only this file picks exit codes. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>

#include "capture.h"
#include "classify.h"
#include "config.h"
#include "ct.h"
#include "daemon.h"
#include "event.h"
#include "install.h"
#include "metrics.h"
#include "nflog.h"
#include "pipeline.h"
#include "queue.h"

#ifndef RSTWATCH_VERSION
#define RSTWATCH_VERSION "0.1.0"
#endif

enum { EXIT_OKAY = 0, EXIT_PARTIAL = 1, EXIT_USAGE = 2 };

static const char usage_main[] =
"usage: rstwatch COMMAND [OPTIONS] [ARGS]\n"
"\n"
"Explains TCP resets: for every reset, who sent it and why (nothing listening,\n"
"full accept queue, peer restart, application abort, unread data, idle or\n"
"keepalive timeout, TIME-WAIT assassination, SYN on a live 4-tuple, a firewall\n"
"reject, or a forged reset from a box on the path).\n"
"\n"
"Commands:\n"
"  explain [--json] FILE...   classify every reset in pcap/pcapng captures\n"
"  run [OPTIONS]              the gateway daemon: nftables rules, NFQUEUE,\n"
"                             conntrack context and marks, events, metrics\n"
"  rules print|install|remove|status [OPTIONS]\n"
"                             the nftables ruleset 'run' loads (same options)\n"
"  check                      which kernel features exist, which fallback 'run'\n"
"                             uses; non-zero exit if 'run' cannot work here\n"
"  help [COMMAND]             show help for a command\n"
"  version                    print the version\n"
"\n"
"Run 'rstwatch COMMAND --help' for a command's options.\n";

static const char usage_explain[] =
"usage: rstwatch explain [OPTIONS] FILE...\n"
"\n"
"Reads pcap or pcapng captures (Ethernet with 802.1Q/QinQ tags or 802.3 LLC/SNAP,\n"
"FDDI, Linux cooked SLL and SLL2, raw IP, BSD/OpenBSD loopback; IPv4 and IPv6;\n"
"pcapng files whose interfaces differ in link type), follows every TCP\n"
"connection in them and classifies each reset packet. Each file is read on its\n"
"own: connections do not carry over from one file to the next.\n"
"\n"
"Output, without --json: one line per reset, in plain English, with the next\n"
"troubleshooting step:\n"
"  TIME SRC:PORT > DST:PORT FLAGS CLASS (SENDER, ORIGIN, CONFIDENCE): ADVICE [EVIDENCE]\n"
"then a summary by class. With --json: one JSON object per reset (Suricata EVE\n"
"envelope, event_type \"rst\"), nothing else on standard output; the summary\n"
"goes to standard error.\n"
"\n"
"Classes: refused, syn-conflict, accept-overflow, half-open, firewall,\n"
"time-wait, abort, idle-timeout, unread-data, injected, unknown.\n"
"\n"
"A reset that may be forged (its TTL, hop limit or IP ID unlike its claimed\n"
"sender's; origin 'middlebox') is decided only after the 2 s of the capture\n"
"that follow it (or its end): if the claimed sender then sends what a host that\n"
"reset would not (data past the reset, an ACK that moves), the reset is\n"
"'injected', evidence sender-alive-after-reset. Events stay in capture order.\n"
"\n"
"Options:\n"
"  -j, --json               JSON lines instead of text\n"
"  -q, --quiet              no summary\n"
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
"Exit status: 0 every file read to its end and every frame's link type decoded;\n"
"1 a partial answer: a capture was truncated or damaged (what came before the\n"
"damage is reported), or some of its frames have a link type rstwatch cannot\n"
"decode (their resets are missing); 2 a file could not be read as a capture,\n"
"or bad usage.\n";

struct explain_out {
	bool json;
	uint64_t by_class[RST_CLASS_COUNT];
	uint64_t resets;
};

static int explain_event(const struct rst_event *ev, void *arg)
{
	struct explain_out *o = arg;
	char buf[EVENT_BUF_SIZE];
	int n;

	n = o->json ? event_json_format(ev, buf, sizeof(buf))
		    : event_text_format(ev, buf, sizeof(buf));
	if (n < 0) {
		fprintf(stderr, "rstwatch: event too large to format, skipped\n");
		return 0;
	}
	o->by_class[ev->verdict.cls]++;
	o->resets++;
	if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
		return -1;
	return 0;
}

static void print_summary(FILE *f, const struct explain_out *o, const struct capture_stats *t,
			  unsigned files)
{
	int c;

	fprintf(f, "summary: %llu reset%s in %u file%s (%llu frames, %llu TCP segments",
		(unsigned long long)o->resets, o->resets == 1 ? "" : "s", files,
		files == 1 ? "" : "s", (unsigned long long)t->frames,
		(unsigned long long)t->by_result[DECODE_OK]);
	for (c = DECODE_OK + 1; c < DECODE_RESULT_COUNT; c++)
		if (t->by_result[c])
			fprintf(f, "; %llu %s", (unsigned long long)t->by_result[c],
				decode_result_name((enum decode_result)c));
	if (t->copies)
		fprintf(f, "; %llu second cop%s of forwarded or looped-back packets judged once",
			(unsigned long long)t->copies, t->copies == 1 ? "y" : "ies");
	fprintf(f, ")\n");
	for (c = 0; c < RST_CLASS_COUNT; c++)
		if (o->by_class[c])
			fprintf(f, "  %-16s %llu\n", rst_class_name((enum rst_class)c),
				(unsigned long long)o->by_class[c]);
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

static int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "max-flows", required_argument, NULL, 'F' },
		{ "idle-threshold", required_argument, NULL, 'I' },
		{ "ttl-tolerance", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct explain_out out = { 0 };
	struct capture_stats total = { 0 };
	struct classify_settings cs;
	unsigned long max_flows = 262144, v;
	bool quiet = false;
	int opt, i, status = EXIT_OKAY;
	unsigned files = 0;

	classify_settings_default(&cs);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "jqh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			out.json = true;
			break;
		case 'q':
			quiet = true;
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
			fputs(usage_explain, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "rstwatch explain: no capture file given\n\n%s", usage_explain);
		return EXIT_USAGE;
	}
	for (i = optind; i < argc; i++) {
		struct pipeline pl;
		struct capture_stats st;
		char err[512];
		enum capture_result r;
		int c;

		if (pipeline_init(&pl, (uint32_t)max_flows)) {
			fprintf(stderr, "rstwatch explain: cannot allocate %lu flows: %s\n",
				max_flows, strerror(errno));
			return EXIT_USAGE;
		}
		pl.settings = cs;
		err[0] = 0;
		r = capture_explain(argv[i], &pl, explain_event, &out, &st, err, sizeof(err));
		pipeline_free(&pl);
		total.frames += st.frames;
		for (c = 0; c < DECODE_RESULT_COUNT; c++)
			total.by_result[c] += st.by_result[c];
		total.copies += st.copies;
		total.lookahead.held += st.lookahead.held;
		total.lookahead.alive += st.lookahead.alive;
		total.lookahead.cut += st.lookahead.cut;
		if (r != CAPTURE_UNREADABLE && warn_linktypes(argv[i], &st) && status == EXIT_OKAY)
			status = EXIT_PARTIAL;
		switch (r) {
		case CAPTURE_OK:
			files++;
			break;
		case CAPTURE_TRUNCATED:
			files++;
			fflush(stdout);
			fprintf(stderr, "rstwatch explain: %s: truncated after %llu frames "
				"(%llu resets reported): %s\n", argv[i],
				(unsigned long long)st.frames, (unsigned long long)st.resets, err);
			if (status == EXIT_OKAY)
				status = EXIT_PARTIAL;
			break;
		case CAPTURE_CALLBACK:
			fprintf(stderr, "rstwatch explain: cannot write output: %s\n",
				strerror(errno));
			return EXIT_USAGE;
		default:
			fprintf(stderr, "rstwatch explain: %s: cannot read capture: %s\n", argv[i],
				err);
			status = EXIT_USAGE;
			break;
		}
	}
	if (!quiet)
		print_summary(out.json ? stderr : stdout, &out, &total, files);
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "rstwatch explain: cannot write output: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	return status;
}

static const char usage_run[] =
"usage: rstwatch run [OPTIONS]\n"
"       rstwatch rules print|install|remove|status [OPTIONS]\n"
"\n"
"'run' watches TCP resets on this host or gateway. At start it binds its\n"
"NFQUEUE queue(s) and nflog group(s), then loads table inet rstwatch (one atomic\n"
"nftables transaction; no other table is touched). Resets are queued: rstwatch\n"
"may drop them. Everything it only observes is copied to its nflog groups and\n"
"never waits for it: by context level, SYN, SYN/ACK and FIN, and every packet\n"
"of a flow on the watch list. Each reset is classified in the context of its\n"
"flow and of conntrack's entry (after the copies the kernel made before it),\n"
"logged as an event, and its conntrack entry tagged in the mark bits rstwatch\n"
"owns. In enforce mode resets classified 'injected', and those of the classes\n"
"named in --suppress, are dropped.\n"
"\n"
"A reset that may be forged (its TTL, hop limit or IP ID unlike its claimed\n"
"sender's; origin 'middlebox') is watched for 2 s, as 'explain' looks ahead: its\n"
"flow goes on the watch list, and if the claimed sender sends anything a host\n"
"that reset would not (data past the reset, an ACK that moves) the reset was\n"
"forged: 'injected', evidence sender-alive-after-reset. In enforce mode the\n"
"reset is held for the first part of that, two round trips of the flow's\n"
"handshake (at least 25 ms, at most 200 ms, 64 at a time per queue): dropped if\n"
"proven forged by then, else let through with the class it had. A reset not\n"
"held (observe mode, or proof after the hold) is never delayed: a second event\n"
"with an 'amends' field corrects the first. Either way the reset is counted\n"
"once, under its final class. Needs conntrack and context handshake.\n"
"\n"
"SIGTERM or SIGINT lets held resets through, removes the table, answers every\n"
"queued packet and exits 0; SIGHUP reopens the log file. If the table\n"
"disappears (nft flush ruleset; the kernel then drops the resets held) it is\n"
"reinstalled within a second. The queue rule uses 'bypass' and the queue\n"
"fail-open, so traffic keeps flowing if rstwatch dies or falls behind.\n"
"\n"
"Resets this host's own firewall sends for new connections (reject with tcp\n"
"reset) are never queued (the kernel would drop them silently); they are\n"
"copied to the nflog group and reported as 'firewall' / 'local-firewall'.\n"
"\n"
"Options (each also readable from --config FILE as 'name = value', without\n"
"the dashes; the command line wins):\n"
"  -q, --queue N|N-M       queue number, or a range (at most 16) for one thread\n"
"                          per queue; the ruleset hashes each flow (symhash) onto\n"
"                          one queue and its nflog group (default 7300)\n"
"  -l, --log TARGET        FILE (appended; reopened on SIGHUP), '-' for standard\n"
"                          output, or 'syslog' (default -)\n"
"      --log-buffer BYTES  event lines that may wait for a slow log (default\n"
"                          4194304); past that they are dropped and counted\n"
"                          (rstwatch_events_dropped_total), never waited for\n"
"      --format json|text  JSON lines (Suricata EVE envelope, event_type \"rst\")\n"
"                          or one plain-English line per reset (default json)\n"
"  -m, --mode observe|enforce\n"
"                          observe accepts every reset (default); enforce drops\n"
"                          'injected' resets and the --suppress classes\n"
"  -s, --suppress CLASSES  comma-separated classes to drop in enforce mode,\n"
"                          e.g. firewall (a middlebox forging resets)\n"
"      --mark-mask MASK    conntrack mark bits rstwatch may change: one run of at\n"
"                          least 6 bits (default 0x00ff0000). Low 4 bits: class\n"
"                          code (class + 1), bit 4: a reset was dropped, top bit:\n"
"                          flow on the watch list. Bits outside never change.\n"
"  -c, --context rst|handshake\n"
"                          what is copied besides resets: nothing; or SYN,\n"
"                          SYN/ACK, FIN and every packet of a flow on the watch\n"
"                          list for --watch-seconds after a suspect reset\n"
"                          (default; 'watch', an older level, means the same)\n"
"      --watch-seconds S   how long a flow stays on the watch list (default 10)\n"
"      --hold-min-ms MS    enforce mode holds a suspect reset two round trips\n"
"      --hold-max-ms MS    of its flow's handshake, but at least MIN and at most\n"
"                          MAX ms (defaults 25 and 200; 1..10000)\n"
"      --hold-count N      resets held at once per queue thread (default 64, at\n"
"                          most 256; 0: never hold, only watch and amend)\n"
"      --metrics ADDR:PORT serve Prometheus metrics on GET /metrics\n"
"                          (e.g. 127.0.0.1:9386 or [::1]:9386)\n"
"      --no-rules          do not load or remove the ruleset: you include\n"
"                          rules/rstwatch.nft and the queue rule yourself\n"
"      --no-conntrack      no conntrack lookups and no marks\n"
"      --nflog-group N     the first nflog group, one per queue, for the copies\n"
"                          (default 7300)\n"
"      --queue-impl auto|native|xt\n"
"                          how the divert rule queues: nft 'queue' or the xt\n"
"                          NFQUEUE target (default auto: probe the kernel)\n"
"      --copy-range BYTES  bytes of each packet copied to rstwatch (default 128)\n"
"      --queue-maxlen N    packets the kernel holds per queue (default 4096)\n"
"      --rcvbuf BYTES      netlink receive buffer (SO_RCVBUFFORCE; default: system)\n"
"      --batch N           accepted packets per verdict message (default 8)\n"
"      --no-fail-open      drop instead of accept when the queue is full\n"
"      --arrival-stamps    stamp events with the time each reset reached the\n"
"                          host rather than the time rstwatch read it (they\n"
"                          differ by the queue's backlog). Sets SO_TIMESTAMP,\n"
"                          which makes the kernel stamp every packet on every\n"
"                          interface of the host: measurable on a busy\n"
"                          gateway, hence off by default\n"
"      --max-flows N       flows tracked per queue thread (default 262144)\n"
"      --rate-limit N      events per second per source address; the rest are\n"
"                          summarised as 'N events suppressed' (default 20, 0 off)\n"
"      --rate-burst N      events a source may send at once (default 40)\n"
"      --rate-limit-total N  events per second per queue thread from all sources\n"
"                          together, so a flood from many addresses is bounded\n"
"                          too; summarised with src_ip \"*\" (default 1000, 0 off)\n"
"      --idle-threshold S  silence, in seconds, that makes a reset an idle\n"
"                          timeout (default 300)\n"
"      --ttl-tolerance N   TTL drift still taken as the same sender (default 1)\n"
"  -F, --config FILE       read options from FILE first\n"
"  -h, --help              this help\n"
"\n"
"'rules print' shows the ruleset for these options as nft syntax; 'install' and\n"
"'remove' load or delete it; 'status' says whether it is loaded and intact.\n"
"\n"
"Exit status: 0 clean stop; 1 a runtime failure (queue busy, kernel refused a\n"
"rule, a thread failed); 2 bad usage or configuration.\n";

/* Options of run and rules: the config file first, then the command line. */
static int parse_run_options(int argc, char **argv, struct daemon_config *c, bool *help)
{
	char err[4400];
	int opt, i, idx;

	daemon_config_default(c);
	*help = false;
	for (i = 1; i < argc; i++) {
		const char *cfg = NULL;

		if (!strcmp(argv[i], "--"))
			break;
		if ((!strcmp(argv[i], "--config") || !strcmp(argv[i], "-F")) && i + 1 < argc)
			cfg = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			cfg = argv[i] + 9;
		if (cfg && config_load(c, cfg, err, sizeof(err))) {
			fprintf(stderr, "rstwatch: %s\n", err);
			return -1;
		}
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, CONFIG_SHORT_OPTS, config_run_opts, &idx)) != -1) {
		const char *name = NULL;
		const struct option *o;

		if (opt == 'h') {
			*help = true;
			return 0;
		}
		if (opt == 'F')
			continue;
		if (opt == '?') {
			fputs("Try 'rstwatch run --help'.\n", stderr);
			return -1;
		}
		for (o = config_run_opts; o->name; o++)
			if (o->val == opt)
				name = o->name;
		if (config_apply(c, opt, name ? name : "?", optarg ? optarg : "", err, sizeof(err))) {
			fprintf(stderr, "rstwatch: %s\n", err);
			return -1;
		}
	}
	return 0;
}

static struct daemon_signals signals_seen;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		signals_seen.hup = 1;
	else
		signals_seen.stop = 1;
}

static int cmd_run(int argc, char **argv)
{
	struct daemon_config c;
	struct sigaction sa;
	char err[512] = "";
	bool help;

	if (parse_run_options(argc, argv, &c, &help))
		return EXIT_USAGE;
	if (help) {
		fputs(usage_run, stdout);
		return EXIT_OKAY;
	}
	if (optind < argc) {
		fprintf(stderr, "rstwatch run: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (daemon_run(&c, &signals_seen, err, sizeof(err))) {
		fprintf(stderr, "rstwatch run: %s\n", err);
		return EXIT_PARTIAL;
	}
	return EXIT_OKAY;
}

static void rules_config_from(const struct daemon_config *c, struct rules_config *r)
{
	struct policy p;

	rules_config_default(r);
	r->queue_first = c->queue_first;
	r->queue_last = c->queue_last;
	r->nflog_group = c->nflog_group;
	r->mark_mask = c->mark_mask;
	if (policy_init(&p, c->mode, c->mark_mask) == 0)
		r->watch_bit = policy_watch_bit(&p);
	r->level = c->level;
	r->impl = c->queue_impl;
}

static int cmd_rules(int argc, char **argv)
{
	struct daemon_config c;
	struct rules_config r;
	const char *verb = argc > 1 ? argv[1] : "";
	char err[256] = "";
	bool help;
	int st;

	if (!strcmp(verb, "-h") || !strcmp(verb, "--help")) {
		fputs(usage_run, stdout);
		return EXIT_OKAY;
	}
	if (parse_run_options(argc - 1, argv + 1, &c, &help))
		return EXIT_USAGE;
	if (help) {
		fputs(usage_run, stdout);
		return EXIT_OKAY;
	}
	rules_config_from(&c, &r);
	if (rules_config_check(&r, err, sizeof(err))) {
		fprintf(stderr, "rstwatch rules: %s\n", err);
		return EXIT_USAGE;
	}
	if (!strcmp(verb, "print"))
		return rules_print(stdout, &r) ? EXIT_PARTIAL : EXIT_OKAY;
	if (!strcmp(verb, "install")) {
		if (rules_install(&r, err, sizeof(err))) {
			fprintf(stderr, "rstwatch rules install: %s\n", err);
			return EXIT_PARTIAL;
		}
		return EXIT_OKAY;
	}
	if (!strcmp(verb, "remove")) {
		if (rules_remove()) {
			fprintf(stderr, "rstwatch rules remove: %s\n", strerror(errno));
			return EXIT_PARTIAL;
		}
		return EXIT_OKAY;
	}
	if (!strcmp(verb, "status")) {
		st = rules_check(&r);
		if (st < 0) {
			fprintf(stderr, "rstwatch rules status: %s\n", strerror(errno));
			return EXIT_PARTIAL;
		}
		printf("table inet rstwatch: %s\n", st == RULES_INTACT ? "installed, intact"
			: st == RULES_ALTERED ? "installed, but altered" : "not installed");
		return st == RULES_INTACT ? EXIT_OKAY : EXIT_PARTIAL;
	}
	fprintf(stderr, "rstwatch rules: say print, install, remove or status\n");
	return EXIT_USAGE;
}

static const char usage_check[] =
"usage: rstwatch check\n"
"\n"
"Probes this kernel (in the current network namespace) for what 'rstwatch run'\n"
"needs, says which fallback it will use, and exits 1 if it cannot work here:\n"
"  queue statement   nft 'queue' (nft_queue), else the xt NFQUEUE target through\n"
"                    nft_compat; one of them is required\n"
"  NFQUEUE           binding a queue (nfnetlink_queue); required\n"
"  conntrack glue    NFQA_CFG_F_CONNTRACK; without it ctnetlink is used (fine)\n"
"  ctnetlink         conntrack lookups and marks; without it no context, no tags\n"
"  nflog             the log group that copies this host's new-flow rejects\n"
"Needs CAP_NET_ADMIN.\n";

static int cmd_check(int argc, char **argv)
{
	struct rules_probe p;
	struct nfqueue_config qc;
	struct nfqueue *q = NULL;
	struct nflog_reader *lr = NULL;
	struct nflog_config lc = { .group = 65000 };
	struct ct_handle *ct;
	enum rules_queue_impl impl;
	bool ok = true;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage_check, stdout);
		return EXIT_OKAY;
	}
	if (rules_probe(&p)) {
		printf("nftables          cannot probe: %s\n", strerror(errno));
		return EXIT_PARTIAL;
	}
	printf("nft queue         %s\n", p.native_queue_err ? strerror(p.native_queue_err)
							 : "yes");
	printf("xt NFQUEUE rev 3  %s\n", p.xt_nfqueue_err ? strerror(p.xt_nfqueue_err) : "yes");
	impl = rules_probe_choose(&p);
	printf("  -> divert rule uses %s\n", impl == RULES_QUEUE_NATIVE ? "nft queue"
		: impl == RULES_QUEUE_XT ? "xt NFQUEUE (fallback)" : "NOTHING: cannot queue");
	if (impl == RULES_QUEUE_AUTO)
		ok = false;
	nfqueue_config_default(&qc, 65000);
	if (nfqueue_open(&q, &qc)) {
		printf("NFQUEUE bind      %s\n", strerror(errno));
		ok = false;
	} else {
		printf("NFQUEUE bind      yes (fail-open, GSO)\n");
		nfqueue_close(q);
	}
	ct = ct_open();
	if (!ct) {
		printf("ctnetlink         %s: no conntrack context, no marks\n", strerror(errno));
	} else {
		printf("ctnetlink         yes (conntrack context by GET, marks by CT_NEW + mask)\n");
		ct_close(ct);
	}
	if (nflog_open(&lr, &lc)) {
		printf("nflog             %s: new-flow firewall rejects will not be seen\n",
		       strerror(errno));
	} else {
		printf("nflog             yes\n");
		nflog_close(lr);
	}
	printf("%s\n", ok ? "rstwatch run can work here" : "rstwatch run CANNOT work here");
	return ok ? EXIT_OKAY : EXIT_PARTIAL;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd || !strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		fputs(usage_main, cmd ? stdout : stderr);
		return cmd ? EXIT_OKAY : EXIT_USAGE;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("rstwatch %s\n", RSTWATCH_VERSION);
		return EXIT_OKAY;
	}
	if (!strcmp(cmd, "help")) {
		const char *what = argc > 2 ? argv[2] : "";

		fputs(!strcmp(what, "explain") ? usage_explain
		      : !strcmp(what, "run") || !strcmp(what, "rules") ? usage_run
		      : !strcmp(what, "check") ? usage_check : usage_main, stdout);
		return EXIT_OKAY;
	}
	if (!strcmp(cmd, "explain"))
		return cmd_explain(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "rules"))
		return cmd_rules(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc - 1, argv + 1);
	fprintf(stderr, "rstwatch: unknown command '%s'\n\n%s", cmd, usage_main);
	return EXIT_USAGE;
}
