/* rstwatch explain: classify the resets of pcap/pcapng captures. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "classify.h"
#include "config.h"
#include "event.h"
#include "main.h"
#include "pipeline.h"

const char usage_explain[] =
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

int cmd_explain(int argc, char **argv)
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
