package runtime_test

// C programs the kernel tests build with gcc into a temporary directory.
// Each waits for a line on stdin before doing its work, so a test can
// attach first, then release it.

// targetC has a uprobe target that returns a value, a global for
// watchpoints, and prints the addresses it uses.
const targetC = `
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

volatile long tb_watched;

__attribute__((noinline)) long tb_target(int a, long b) {
	__asm__ volatile("" ::: "memory");
	return a + b + 1;
}

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	long sum = 0;
	char line[16];
	printf("%p %p\n", (void *)tb_target, (void *)&tb_watched);
	fflush(stdout);
	if (!fgets(line, sizeof line, stdin))
		return 1;
	for (int i = 0; i < n; i++) {
		sum += tb_target(i, 7);
		tb_watched = i;
	}
	printf("%ld\n", sum);
	return 0;
}
`

// usdtC has a USDT probe with a semaphore: it fires (and counts) only
// while the semaphore is raised, as real instrumented programs do.
const usdtC = `
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <stdio.h>
#include <stdlib.h>

__extension__ unsigned short tbtest_ping_semaphore __attribute__((unused)) __attribute__((section(".probes")));

static volatile long counter;

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 100;
	int fired = 0;
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		return 1;
	for (int i = 0; i < n; i++) {
		counter += i;
		if (tbtest_ping_semaphore) {
			fired++;
			STAP_PROBE3(tbtest, ping, i, counter, n);
		}
	}
	printf("%d\n", fired);
	return 0;
}
`

// usdtPlainC has USDT probes without semaphores, one of them at two sites
// with different argument locations.
const usdtPlainC = `
#include <sys/sdt.h>
#include <stdio.h>
#include <stdlib.h>

long tb_global = 42;

__attribute__((noinline)) int work(int a, long b) {
	DTRACE_PROBE2(tbplain, twice, a, b);
	return a * 2;
}

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 3;
	long s = 0;
	for (int i = 0; i < n; i++) {
		s += work(i, s);
		DTRACE_PROBE3(tbplain, twice, i, s, n);
		DTRACE_PROBE1(tbplain, global, tb_global);
	}
	printf("%ld\n", s);
	return 0;
}
`
