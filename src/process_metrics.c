/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "process_metrics.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Fields 14-15 (utime, stime), 22 (starttime, clock ticks since boot), 23
 * (vsize, bytes), 24 (rss, pages) of /proc/self/stat. The command name
 * (field 2) may hold spaces and parentheses: parse from its last ')'. */
struct proc_stat {
	unsigned long long utime, stime, starttime, vsize;
	long long rss;
};

static int read_proc_stat(struct proc_stat *ps)
{
	char buf[1024], *p;
	size_t n;
	FILE *f = fopen("/proc/self/stat", "re");

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* After ')': field 3 (state) onwards. */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
		   "%*d %*d %llu %llu %lld", &ps->utime, &ps->stime, &ps->starttime, &ps->vsize,
		   &ps->rss) != 5)
		return -1;
	return 0;
}

/* The boot time, seconds since the epoch ("btime" of /proc/stat). */
static int read_boot_time(unsigned long long *btime)
{
	char line[256];
	int rc = -1;
	FILE *f = fopen("/proc/stat", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %llu", btime) == 1) {
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

static long count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;    /* the directory's own descriptor */
}

void process_metrics_render(FILE *out)
{
	long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE), fds = count_open_fds();
	unsigned long long btime;
	struct proc_stat ps;
	struct rlimit rl;

	if (ticks > 0 && page > 0 && read_proc_stat(&ps) == 0) {
		fprintf(out, "# HELP process_cpu_seconds_total Total user and system CPU time spent "
			"in seconds.\n# TYPE process_cpu_seconds_total counter\n"
			"process_cpu_seconds_total %.2f\n"
			"# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
			"# TYPE process_resident_memory_bytes gauge\n"
			"process_resident_memory_bytes %lld\n"
			"# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
			"# TYPE process_virtual_memory_bytes gauge\n"
			"process_virtual_memory_bytes %llu\n",
			(double)(ps.utime + ps.stime) / (double)ticks, ps.rss * page, ps.vsize);
		if (read_boot_time(&btime) == 0)
			fprintf(out, "# HELP process_start_time_seconds Start time of the process "
				"since unix epoch in seconds.\n"
				"# TYPE process_start_time_seconds gauge\n"
				"process_start_time_seconds %.2f\n",
				(double)btime + (double)ps.starttime / (double)ticks);
	}
	if (fds >= 0)
		fprintf(out, "# HELP process_open_fds Number of open file descriptors.\n"
			"# TYPE process_open_fds gauge\nprocess_open_fds %ld\n", fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		fprintf(out, "# HELP process_max_fds Maximum number of open file descriptors.\n"
			"# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
			(unsigned long long)rl.rlim_cur);
}
