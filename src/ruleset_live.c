/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The live ruleset: read from the kernel of this network namespace with
 * libnftables (`list ruleset` as JSON, what `nft -j` prints), kept current
 * by the ruleset change events every nf_tables transaction sends to
 * NFNLGRP_NFTABLES, and shared with the worker threads. */
#include "ruleset_live.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>

#include "nlquery.h"
#include "nlrecv.h"

/* ---- the ruleset's generation ---- */

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_GEN_ID && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			*(uint32_t *)data = ntohl(mnl_attr_get_u32(a));
	return *(uint32_t *)data ? MNL_CB_STOP : MNL_CB_OK;
}

/* The kernel's ruleset generation (NFT_MSG_GETGEN): it moves with every
 * committed transaction. 0, or -1 + errno. */
static int generation_now(uint32_t *gen)
{
	char buf[8192] __attribute__((aligned(4)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	*gen = 0;
	return nl_query(NETLINK_NETFILTER, buf, sizeof(buf), nlh, gen_cb, gen, NL_QUERY_TIMEOUT_MS);
}

/* ---- reading the ruleset ---- */

/* iptables-nft rules show in the JSON as "xt target REJECT": their -A lines
 * come from the family's iptables-save (absent: the rules stay unnamed by
 * it, and the answer says so). */
static void add_iptables(struct rs_model *m)
{
	static const struct { int family; const char *cmd; } saves[] = {
		{ 4, "iptables-nft-save 2>/dev/null" }, { 6, "ip6tables-nft-save 2>/dev/null" },
	};

	for (size_t i = 0; i < sizeof(saves) / sizeof(saves[0]); i++) {
		FILE *p = popen(saves[i].cmd, "r");
		char *text = NULL;
		size_t len = 0;

		if (!p)
			continue;
		{
			FILE *mem = open_memstream(&text, &len);
			char chunk[4096];
			size_t n;

			while (mem && (n = fread(chunk, 1, sizeof(chunk), p)) > 0)
				fwrite(chunk, 1, n, mem);
			if (mem)
				fclose(mem);
		}
		pclose(p);
		if (text)
			ruleset_add_iptables_save(m, saves[i].family, text, len);
		free(text);
	}
}

struct rs_model *ruleset_read_kernel(size_t max_bytes, char *err, size_t errlen)
{
	struct rs_model *m = NULL;

	/* Read between two equal generations: a transaction committed during
	 * the dump would make it a mix of two rulesets. */
	for (int tries = 0; tries < 3 && !m; tries++) {
		struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
		uint32_t before = 0, after = 0;
		const char *out;

		if (!nft) {
			snprintf(err, errlen, "libnftables: cannot create a context");
			return NULL;
		}
		nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
		if (nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft) ||
		    generation_now(&before) < 0) {
			snprintf(err, errlen, "reading the ruleset generation: %s", strerror(errno));
			nft_ctx_free(nft);
			return NULL;
		}
		if (nft_run_cmd_from_buffer(nft, "list ruleset")) {
			const char *e = nft_ctx_get_error_buffer(nft);

			snprintf(err, errlen, "nft list ruleset: %.*s", (int)strcspn(e ? e : "", "\n"),
				 e ? e : "failed");
			nft_ctx_free(nft);
			return NULL;
		}
		out = nft_ctx_get_output_buffer(nft);
		if (generation_now(&after) == 0 && after == before) {
			m = ruleset_parse(out, strlen(out), max_bytes, err, errlen);
			if (m)
				ruleset_set_generation(m, after);
		} else {
			snprintf(err, errlen, "the ruleset kept changing while it was read");
		}
		nft_ctx_free(nft);
		if (!m && after == before)
			return NULL;
	}
	if (m)
		add_iptables(m);
	malloc_trim(0);    /* libnftables' cache and output, as ruleset_parse's tree */
	return m;
}

/* ---- change events ---- */

struct ruleset_watch {
	struct mnl_socket *nl;
};

struct ruleset_watch *ruleset_watch_open(char *err, size_t errlen)
{
	struct ruleset_watch *w = calloc(1, sizeof(*w));
	int group = NFNLGRP_NFTABLES;

	if (!w || !(w->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC)) ||
	    mnl_socket_bind(w->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(w->nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		snprintf(err, errlen, "cannot listen to ruleset changes: %s", strerror(errno));
		ruleset_watch_close(w);
		return NULL;
	}
	return w;
}

int ruleset_watch_fd(const struct ruleset_watch *w)
{
	return mnl_socket_get_fd(w->nl);
}

static int change_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ruleset_changes *c = data;

	if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES)
		return MNL_CB_OK;
	c->messages++;
	if ((nlh->nlmsg_type & 0xff) == NFT_MSG_NEWGEN) {
		c->commits++;
		gen_cb(nlh, &c->generation);
	}
	return MNL_CB_OK;
}

int ruleset_watch_read(struct ruleset_watch *w, struct ruleset_changes *c)
{
	char buf[65536] __attribute__((aligned(4)));

	memset(c, 0, sizeof(*c));
	for (;;) {
		ssize_t n = nl_recv_kernel(ruleset_watch_fd(w), buf, sizeof(buf), 0);

		if (n < 0 && errno == EPERM)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0 && errno == ENOBUFS) {
			/* Events were lost: whatever they said, look again. */
			c->overrun = true;
			continue;
		}
		if (n < 0)
			return -1;
		mnl_cb_run(buf, nl_whole_messages(buf, (size_t)n), 0, 0, change_cb, c);
	}
}

void ruleset_watch_close(struct ruleset_watch *w)
{
	if (!w)
		return;
	if (w->nl)
		mnl_socket_close(w->nl);
	free(w);
}

/* ---- the model the workers share ---- */

struct rs_shared {
	struct rs_model *m;
	/* When its generation may have begun (the read before it ended) and
	 * when it surely had (its change was seen): a reset in between may
	 * have met either. */
	uint64_t maybe_from_us, sure_from_us;
	unsigned refs;          /* under the owner's lock */
};

static void shared_put_locked(struct rs_shared *s)
{
	if (s && --s->refs == 0) {
		ruleset_free(s->m);
		free(s);
	}
}

void ruleset_current_init(struct ruleset_current *c)
{
	pthread_condattr_t ca;

	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->renewed, &ca);
	pthread_cond_init(&c->work, &ca);
	pthread_condattr_destroy(&ca);
}

void ruleset_current_fini(struct ruleset_current *c)
{
	shared_put_locked(c->cur);
	shared_put_locked(c->prev);
	c->cur = c->prev = NULL;
	pthread_cond_destroy(&c->renewed);
	pthread_cond_destroy(&c->work);
	pthread_mutex_destroy(&c->lock);
}

int ruleset_current_set(struct ruleset_current *c, struct rs_model *m, uint64_t maybe_from_us,
			uint64_t sure_from_us)
{
	struct rs_shared *s = calloc(1, sizeof(*s)), *old;

	if (!s) {
		ruleset_free(m);
		return -1;
	}
	s->m = m;
	s->maybe_from_us = maybe_from_us;
	s->sure_from_us = sure_from_us;
	s->refs = 1;
	pthread_mutex_lock(&c->lock);
	/* One generation back is kept: a reset judged after a change may have
	 * met the ruleset before it. */
	old = c->prev;
	c->prev = c->cur;
	c->cur = s;
	c->reading = false;
	/* Read in the thread that reads the change events: none came since. */
	atomic_store(&c->generation_seen, ruleset_generation(m));
	shared_put_locked(old);
	pthread_cond_broadcast(&c->renewed);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static uint64_t realtime_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

static int64_t monotonic_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void ruleset_current_changed(struct ruleset_current *c, uint32_t generation)
{
	pthread_mutex_lock(&c->lock);
	if (generation)
		atomic_store(&c->generation_seen, generation);
	else    /* changes lost: whatever the current one is, it is not sure */
		atomic_store(&c->generation_seen, UINT32_MAX);
	if (!c->pending)
		c->pending_since_us = realtime_us();
	c->pending = true;
	pthread_cond_signal(&c->work);
	pthread_mutex_unlock(&c->lock);
}

void ruleset_current_unread(struct ruleset_current *c)
{
	pthread_mutex_lock(&c->lock);
	c->reading = false;
	c->given_up = atomic_load(&c->generation_seen);
	pthread_cond_broadcast(&c->renewed);
	pthread_mutex_unlock(&c->lock);
}

/* A newer generation is committed than the current model (and not given up
 * on), or one is being read. */
static bool behind(const struct ruleset_current *c)
{
	uint32_t seen = (uint32_t)atomic_load(&c->generation_seen);

	return c->reading || (c->cur && seen != ruleset_generation(c->cur->m) &&
			      seen != c->given_up);
}

/* A generation committed but not read yet: wait for it, a bounded while,
 * and tell the reader someone does (it may have put the read off). */
static void wait_renewed(struct ruleset_current *c)
{
	struct timespec until;

	if (!behind(c))
		return;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += RULESET_WAIT_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	c->waiters++;
	pthread_cond_signal(&c->work);
	while (behind(c) && pthread_cond_timedwait(&c->renewed, &c->lock, &until) == 0)
		;
	c->waiters--;
}

const struct rs_model *ruleset_current_take(struct ruleset_current *c, uint64_t ts_us,
					    struct rs_shared **held, bool *changed,
					    const struct rs_model **alt, struct rs_shared **alt_held)
{
	struct rs_shared *s;
	uint32_t now_gen = 0;

	/* The kernel's generation now: a commit whose change event the main
	 * loop has not read yet is not missed (the reset may have met it). */
	if (atomic_load(&c->reader_started) && generation_now(&now_gen) == 0 && now_gen &&
	    now_gen != (uint32_t)atomic_load(&c->generation_seen))
		ruleset_current_changed(c, now_gen);
	pthread_mutex_lock(&c->lock);
	wait_renewed(c);
	s = c->cur;
	*changed = false;
	*alt = NULL;
	*alt_held = NULL;
	if (s && ts_us + RULESET_CLOCK_SLACK_US < s->maybe_from_us) {
		/* Clearly older than the current ruleset: its trigger met the
		 * one before, or one older still (not kept). */
		*changed = !c->prev || ts_us + RULESET_CLOCK_SLACK_US < c->prev->maybe_from_us;
		if (c->prev)
			s = c->prev;
	} else if (s && ts_us < s->sure_from_us && c->prev) {
		/* Around the change: either; the caller asks both. */
		*alt_held = c->prev;
		c->prev->refs++;
		*alt = c->prev->m;
	}
	if (s) {
		s->refs++;
		if (s == c->cur && atomic_load(&c->generation_seen) != ruleset_generation(s->m))
			*changed = true;    /* a newer one is committed, not read in time */
	}
	pthread_mutex_unlock(&c->lock);
	*held = s;
	return s ? s->m : NULL;
}

void ruleset_current_drop(struct ruleset_current *c, struct rs_shared *held)
{
	pthread_mutex_lock(&c->lock);
	shared_put_locked(held);
	pthread_mutex_unlock(&c->lock);
}

/* ---- the reader thread ---- */

/* Read what changed, but no sooner than twice the last read's time after it
 * (a ruleset changing all the time, a ban list filled every second, on a
 * ruleset that takes seconds to read would otherwise keep a core busy),
 * unless a reset waits for it. */
static void *reader_main(void *arg)
{
	struct ruleset_current *c = arg;

	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		int64_t now = monotonic_ms(), wake;
		struct timespec until;

		if (c->pending && (c->waiters || now >= c->next_ms)) {
			uint64_t maybe = c->last_read_us, sure = c->pending_since_us;
			struct rs_model *m;
			char err[256];

			c->pending = false;
			c->reading = true;
			pthread_mutex_unlock(&c->lock);
			m = ruleset_read_kernel(0, err, sizeof(err));
			if (m)
				ruleset_current_set(c, m, maybe, sure);
			else
				ruleset_current_unread(c);
			if (!m && c->warn)
				c->warn(c->warn_arg, err);
			pthread_mutex_lock(&c->lock);
			if (m)
				c->last_read_us = realtime_us();
			c->next_ms = monotonic_ms() + 2 * (monotonic_ms() - now);
			continue;
		}
		wake = c->pending ? c->next_ms : now + 1000;
		until.tv_sec = (time_t)(wake / 1000);
		until.tv_nsec = (long)(wake % 1000) * 1000000L;
		pthread_cond_timedwait(&c->work, &c->lock, &until);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int ruleset_reader_start(struct ruleset_current *c, void (*warn)(void *arg, const char *msg),
			 void *arg)
{
	c->warn = warn;
	c->warn_arg = arg;
	c->pending = true;      /* the first read, at once */
	c->pending_since_us = 0;
	if (pthread_create(&c->reader, NULL, reader_main, c))
		return -1;
	atomic_store(&c->reader_started, true);
	return 0;
}

void ruleset_reader_stop(struct ruleset_current *c)
{
	if (!atomic_load(&c->reader_started))
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->work);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->reader, NULL);
	atomic_store(&c->reader_started, false);
}
