// tbwork is the workload of the differential tier: every mode does a known
// thing an exact number of times, so a program that filters on this process
// (pid == cpid, comm == "tbwork") sees deterministic counts.
//
//   tbwork calls N      calls tb_add(i, 2*i), tb_str(word), tb_neg(-i) N times
//   tbwork getppid N    makes N getppid syscalls
//   tbwork write N      writes i+1 bytes to /dev/null, for i in 0..N-1
//   tbwork usdt N       fires USDT probes tbwork:tick (i, word) and tbwork:done (N)
//   tbwork open PATH N  opens and closes PATH N times
//   tbwork nanosleep N  sleeps 1 ms, N times
//   tbwork spin MS      burns CPU for MS milliseconds
//   tbwork loop N       getppid N times in a tight loop and prints the ns it took
//                       (the per-event overhead benchmark uses this)
//   tbwork watch N      N times, 20 ms apart: wp_bump(a) adds 1 to *a, wp_bump2(b)
//                       adds 2 to *b, wp_add(3, c) adds 3 to *c (heap ints), for
//                       watchpoint:func+argN
//
// With TBWORK_LINGER_MS set, tbwork sleeps that long before it exits, so a
// tracer can still read its /proc/PID/maps when it symbolises func or
// ustack after the last event.
//
// Built with -g -O0 -no-pie so uprobes and uaddr() see plain symbols.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *words[] = {"alpha", "beta", "gamma", "delta"};

__attribute__((noinline)) int tb_add(int a, int b) { return a + b; }

__attribute__((noinline)) size_t tb_str(const char *s) { return strlen(s); }

__attribute__((noinline)) long tb_neg(long x) { return x < 0 ? x : -x; }

__attribute__((noinline)) void tb_done(int n) { (void)n; }

__attribute__((noinline)) void wp_bump(int *p) { (*p)++; }

__attribute__((noinline)) void wp_bump2(int *p) { (*p) += 2; }

__attribute__((noinline)) void wp_add(int by, int *p) { (*p) += by; }

static long now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static int run_mode(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: tbwork MODE N\n");
		return 2;
	}
	const char *mode = argv[1];
	long n = atol(argv[argc - 1]);
	if (strcmp(mode, "calls") == 0) {
		long sum = 0;
		for (long i = 0; i < n; i++) {
			sum += tb_add((int)i, (int)(2 * i));
			sum += (long)tb_str(words[i % 4]);
			sum += tb_neg(-i);
		}
		tb_done((int)n);
		return sum == 0 ? 0 : 0;
	}
	if (strcmp(mode, "getppid") == 0) {
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		return 0;
	}
	if (strcmp(mode, "write") == 0) {
		char buf[256];
		memset(buf, 'x', sizeof buf);
		int fd = open("/dev/null", O_WRONLY);
		for (long i = 0; i < n; i++)
			if (write(fd, buf, (size_t)(i + 1) % sizeof buf) < 0)
				return 1;
		close(fd);
		return 0;
	}
	if (strcmp(mode, "usdt") == 0) {
		for (long i = 0; i < n; i++) {
			const char *w = words[i % 4];
			DTRACE_PROBE2(tbwork, tick, i, w);
		}
		DTRACE_PROBE1(tbwork, done, n);
		return 0;
	}
	if (strcmp(mode, "open") == 0 && argc == 4) {
		for (long i = 0; i < n; i++) {
			int fd = open(argv[2], O_RDONLY);
			if (fd >= 0)
				close(fd);
		}
		return 0;
	}
	if (strcmp(mode, "nanosleep") == 0) {
		struct timespec ts = {0, 1000000};
		for (long i = 0; i < n; i++)
			nanosleep(&ts, NULL);
		return 0;
	}
	if (strcmp(mode, "spin") == 0) {
		long end = now_ns() + n * 1000000L;
		volatile long x = 0;
		while (now_ns() < end)
			x++;
		return 0;
	}
	if (strcmp(mode, "watch") == 0) {
		int *a = malloc(sizeof *a), *b = malloc(sizeof *b), *c = malloc(sizeof *c);
		struct timespec ts = {0, 20000000};
		*a = *b = *c = 0;
		for (long i = 0; i < n; i++) {
			wp_bump(a);
			wp_bump2(b);
			wp_add(3, c);
			nanosleep(&ts, NULL);
		}
		return 0; // not freed: free() writes into the watched ints
	}
	if (strcmp(mode, "loop") == 0) {
		long start = now_ns();
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		printf("%ld\n", now_ns() - start);
		return 0;
	}
	fprintf(stderr, "tbwork: unknown mode %s\n", mode);
	return 2;
}

int main(int argc, char **argv) {
	int rc = run_mode(argc, argv);
	const char *linger = getenv("TBWORK_LINGER_MS");
	if (linger != NULL) {
		long ms = atol(linger);
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	return rc;
}
