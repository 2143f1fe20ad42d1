package runtime_test

import (
	"fmt"
	"testing"

	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// uaddrC has data symbols of 1, 2, 4 and 8 bytes holding negative values:
// read with the wrong width, none of them reads back as itself.
const uaddrC = `
#include <stdio.h>
#include <stdlib.h>

volatile signed char tb_c8 = -2;
volatile short tb_s16 = -3;
volatile int tb_i32 = -4;
volatile long tb_l64 = -5;

__attribute__((noinline)) long tb_target(int a, long b) {
	__asm__ volatile("" ::: "memory");
	return a + b + tb_c8 + tb_s16 + tb_i32 + tb_l64;
}

int main(int argc, char **argv) {
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		return 1;
	printf("%ld\n", tb_target(argc, 1));
	return 0;
}
`

// TestUaddrSymbolSize checks that *uaddr("sym") reads as many bytes as the
// symbol has, as a signed integer of that size (bpftrace 0.17's typing).
func TestUaddrSymbolSize(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureUprobe)
	bin := runtimetest.BuildC(t, "uaddr", uaddrC, "-O2", "-no-pie")
	s := newSession(t, &runtime.SessionOptions{HaveCmd: true})
	p := compile(t, s, "uaddr", fmt.Sprintf(`uprobe:%s:tb_target /pid == cpid/ {
	@c8 = *uaddr("tb_c8"); @s16 = *uaddr("tb_s16"); @i32 = *uaddr("tb_i32"); @l64 = *uaddr("tb_l64");
}`, bin))
	res := childRun(t, s, p, bin)
	for name, want := range map[string]int64{"@c8": -2, "@s16": -3, "@i32": -4, "@l64": -5} {
		if got := scalar(t, mapOf(t, res.Maps, name)); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}
