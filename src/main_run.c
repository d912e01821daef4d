/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rstwatch run and rstwatch rules: the daemon and the ruleset it loads share
 * their options (config file first, then the command line). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "install.h"
#include "main.h"
#include "policy.h"

const char usage_run[] =
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
"      --control PATH      unix socket 'rstwatch status' reads (default\n"
"                          /run/rstwatch/control; 'none': no socket)\n"
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
static int parse_run_options(const char *cmd, int argc, char **argv, struct daemon_config *c,
			     bool *help)
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
	opterr = 0;    /* its message names argv[0], here the verb: ours names the command */
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
			usage_bad_option(cmd, argv[optind - 1]);
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
	/* Values that are only wrong together (or as a class list) are
	 * configuration errors too: exit 2 before anything starts. */
	if (!*help && daemon_config_check(c, err, sizeof(err))) {
		fprintf(stderr, "rstwatch %s: %s\n", cmd, err);
		return -1;
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

int cmd_run(int argc, char **argv)
{
	struct daemon_config c;
	struct sigaction sa;
	char err[512] = "";
	bool help;

	if (parse_run_options("run", argc, argv, &c, &help))
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

int cmd_rules(int argc, char **argv)
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
	if (parse_run_options("rules", argc - 1, argv + 1, &c, &help))
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
