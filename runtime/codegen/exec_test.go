package codegen

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// execTests run programs for real: each source's BEGIN (and END, and a
// cell's top-level statements) runs once under BPF_PROG_TEST_RUN, then the
// maps and the ring buffer's records must print as given (maps sorted by
// name, then entries by text; events in the order written).
var execTests = []struct {
	name   string
	src    string
	opts   fileOptions
	maps   string
	events string
}{
	{name: "arith", src: `BEGIN {
		@add = 7 + -3; @sub = 7 - 10; @mul = -4 * 5;
		@div = -7 / 2; @mod = -7 % 3; @udiv = (uint64)100 / 7; @divneg = 7 / -2;
		@shr = -8 >> 1; @ushr = (uint64)16 >> 2; @shl = 1 << 40;
		@prec = 1 + 2 * 3 - (4 - 2) / 2;
		@not = ~0; @neg = -5; @lnot = !0; @lnot2 = !7;
		@and = 0xff & 0x0f; @or = 0xf0 | 0x0f; @xor = 0xff ^ 0x0f;
		@p2div = -7 / 4; @p2mod = -7 % 4; @p2u = (uint64)-1 % 16; @p2d = 9 / 2; @p2m = 9 % 8;
		$m = -7; @c1 = $m / 3; @c2 = 7 / -3; @c3 = $m / -3; @c4 = $m % 3; @c5 = 7 % -3; @c6 = $m % -3;
		$d = 3; @r1 = $m / $d; @r2 = $m % $d;
	}`, maps: `@add: 4
@and: 15
@c1: -2
@c2: -2
@c3: 2
@c4: -1
@c5: 1
@c6: -1
@div: -3
@divneg: -3
@lnot: 1
@lnot2: 0
@mod: -1
@mul: -20
@neg: -5
@not: -1
@or: 255
@p2d: 4
@p2div: -1
@p2m: 1
@p2mod: -3
@p2u: 15
@prec: 6
@r1: -2
@r2: -1
@shl: 1099511627776
@shr: -4
@sub: -3
@udiv: 14
@ushr: 4
@xor: 240`},

	{name: "compare", src: `BEGIN {
		@lt = -1 < 1; @ult = (uint64)-1 > 1; @le = 2 <= 2; @ge = 1 >= 2; @eq = 3 == 3; @ne = 3 != 3;
		@and = 1 && 0; @or = 0 || 2; @both = (1 < 2) && (2 < 3);
	}`, maps: `@and: 0
@both: 1
@eq: 1
@ge: 0
@le: 1
@lt: 1
@ne: 0
@or: 1
@ult: 1`},

	{name: "casts_bswap", src: `BEGIN {
		@u8 = (uint8)300; @i8 = (int8)200; @u16 = (uint16)-1; @i32 = (int32)0xffffffff;
		@b16 = bswap((uint16)0x1234); @b32 = bswap((uint32)0x12345678);
		@b64 = bswap((uint64)0x0102030405060708);
	}`, maps: `@b16: 13330
@b32: 2018915346
@b64: 578437695752307201
@i32: -1
@i8: -56
@u16: 65535
@u8: 44`},

	{name: "control", src: `BEGIN {
		$x = 5;
		if ($x > 10) { @r = 1; } else if ($x > 3) { @r = 2; } else { @r = 3; }
		$i = 0;
		unroll (5) { @sq[$i] = $i * $i; $i++; }
		$j = 0; $s = 0;
		while ($j < 100) {
			$j++;
			if ($j % 2 == 0) { continue; }
			if ($j > 50) { break; }
			$s += $j;
		}
		@odd = $s;
		@t = $x > 3 ? "yes" : "no";
		@n = $x < 3 ? 10 : 20;
	}`, maps: `@n: 20
@odd: 625
@r: 2
@sq[0]: 0
@sq[1]: 1
@sq[2]: 4
@sq[3]: 9
@sq[4]: 16
@t: yes`},

	{name: "aggregations", src: `BEGIN {
		@c = count(); @c = count();
		@s = sum(5); @s = sum(-2);
		@mn = min(5); @mn = min(-3); @mn = min(4);
		@mx = max(-5); @mx = max(-7);
		@a = avg(10); @a = avg(5); @a = avg(-2);
		@st = stats(10); @st = stats(20); @st = stats(-3);
		@k[1] = count(); @k[2] = count(); @k[1] = count();
	}`, maps: `@a: 4
@c: 2
@k[1]: 2
@k[2]: 1
@mn: -3
@mx: -5
@s: 3
@st: count 3, average 9, total 27`},

	{name: "hist", src: `BEGIN {
		@h = hist(-1); @h = hist(0); @h = hist(1); @h = hist(2); @h = hist(3);
		@h = hist(1024); @h = hist(1 << 32); @h = hist((1 << 32) - 1); @h = hist(1 << 40);
		@h = hist(0x7fffffffffffffff);
		@u = hist((uint64)-1); @u = hist((uint64)1 << 63);
		@l = lhist(-5, 0, 100, 10); @l = lhist(0, 0, 100, 10); @l = lhist(55, 0, 100, 10);
		@l = lhist(99, 0, 100, 10); @l = lhist(100, 0, 100, 10); @l = lhist(1000, 0, 100, 10);
		@kh["a"] = hist(5); @kh["b"] = hist(5); @kh["a"] = hist(6);
	}`, maps: `@h: {0:1 1:1 2:1 3:2 12:1 33:1 34:1 42:1 64:1}
@kh[a]: {4:2}
@kh[b]: {4:1}
@l: {0:1 1:1 6:1 10:1 11:2}
@u: {65:2}`},

	{name: "strings", src: `BEGIN {
		@s = "abc";
		@eq = "abc" == "abc"; @ne = "abc" == "abd"; @ne2 = "abc" != "ab";
		@sn = strncmp("hello", "help", 3); @sn2 = strncmp("hello", "help", 4);
		@con = strcontains("hello world", "o w"); @con2 = strcontains("hello", "xyz");
		@con3 = strcontains("hello", "");
		@trunc = str($1, 3);
		$v = "short"; @v1 = $v; $v = "a longer string"; @v2 = $v;
		@key[$v, "x"] = 1;
	}`, opts: fileOptions{params: []string{"hello"}}, maps: `@con: 1
@con2: 0
@con3: 1
@eq: 1
@key[a longer string, x]: 1
@ne: 0
@ne2: 1
@s: abc
@sn: 0
@sn2: 1
@trunc: hel
@v1: short
@v2: a longer string`},

	{name: "tuples", src: `BEGIN {
		$t = (1, "two", (int8)-3);
		@t = $t;
		@n = (1, ("x", 2));
		printf("%d %s %d\n", $t.0, $t.1, $t.2);
	}`, maps: `@n: (1, (x, 2))
@t: (1, two, -3)`, events: `printf "%d %s %d\n" 1 two -3`},

	{name: "printf_packing", src: `BEGIN {
		printf("%d %s %d %s %d\n", (int8)1, "ab", (int16)-2, "xyz", 1 << 33);
		printf("%s %s %s\n", ntop(2, 0x0100007f), ntop(pton("::1")), ntop(pton("10.1.2.3")));
		printf("no args\n");
	}`, events: `printf "%d %s %d %s %d\n" 1 ab -2 xyz 8589934592
printf "%s %s %s\n" 127.0.0.1 ::1 10.1.2.3
printf "no args\n"`},

	{name: "maps_delete_clear", src: `BEGIN {
		@a[1] = 1; @a[2] = 2; @a[3] = 3;
		delete(@a[1]);
		@b = 5; clear(@b); zero(@a);
		@m[1] = 10; @m[2] = 20;
		@h1 = has_key(@m, 1); @h3 = has_key(@m, 3);
		@len = len(@m);
		@x++; @x++; @y[7]--;
		@z = 5; @z += 10; @z -= 3; @z *= 2; @z /= 4; @z <<= 2;
		$i = 10; $i++; $j = $i--; @i = $i; @j = $j;
		@pre = ++@x;
	}`, maps: `@a[2]: 2
@a[3]: 3
@b: 5
@h1: 1
@h3: 0
@i: 10
@j: 11
@len: 2
@m[1]: 10
@m[2]: 20
@pre: 3
@x: 3
@y[7]: -1
@z: 24`, events: `clear @b
zero @a`},

	{name: "for", src: `BEGIN {
		@m[1] = 10; @m[2] = 20; @m[3] = 30;
		for ($kv : @m) {
			@sum += $kv.1;
			@keys += $kv.0;
			if ($kv.0 == 2) { continue; }
			@seen[$kv.0] = $kv.1 * 2;
		}
	}`, maps: `@keys: 6
@m[1]: 10
@m[2]: 20
@m[3]: 30
@seen[1]: 20
@seen[3]: 60
@sum: 60`},

	{name: "exit_stops", src: `BEGIN { printf("a\n"); exit(); printf("b\n"); }`,
		events: `printf "a\n"
exit`},

	{name: "end", src: `BEGIN { @x = 1; } END { printf("end %d\n", @x); }`, maps: `@x: 1`, events: `printf "end %d\n" 1`},

	{name: "builtins", src: `BEGIN {
		@pid = pid == $1; @tid = tid > 0; @uid = uid; @gid = gid;
		@el = elapsed > 0; @ns = nsecs > 0; @comm[comm] = 1;
		@user = username; @cpu = cpu < 4096; @cg = cgroup > 0;
		@probe = probe;
	}`, opts: fileOptions{params: []string{fmt.Sprint(os.Getpid())}}, maps: `@cg: 1
@comm[codegen.test]: 1
@cpu: 1
@el: 1
@gid: 0
@ns: 1
@pid: 1
@probe: BEGIN
@tid: 1
@uid: 0
@user: raw(0)`},

	{name: "events", src: `BEGIN {
		print((1, "a")); print(5); print(comm);
		time("%H\n");
		@x[1] = 2; print(@x); print(@x, 3, 10);
		cat("/proc/%d/comm", 1);
		system("echo %s", "hi");
		@t = strftime("%H:%M", 0);
		unwatch(0x1234);
	}`, opts: fileOptions{unsafe: true}, maps: `@t: time("%H:%M")
@x[1]: 2`, events: `print (1, a)
print 5
print codegen.test
time "%H\n"
print_map @x 0 0
print_map @x 3 10
cat "/proc/%d/comm" 1
system "echo %s" hi
unwatch 4660`},

	{name: "helper-errors-kk", src: `BEGIN {
		@a[1] = 1; delete(@a[2]); delete(@a[1]);
		$x = @a[3]; $y = *(uint64 *)0; $s = str(0); @h[1] = hist(3);
	}`, opts: fileOptions{helperChecks: 2}, maps: `@h[1]: {3:1}`, events: `helper_error "map_delete_elem" -2
helper_error "map_lookup_elem" 0
helper_error "probe_read" -14
helper_error "probe_read_str" -14
helper_error "map_lookup_elem" 0`},

	{name: "helper-errors-k", src: `BEGIN {
		@a[1] = 1; delete(@a[2]); $x = @a[3]; $y = *(uint64 *)0; @h[1] = hist(3);
	}`, opts: fileOptions{helperChecks: 1}, maps: `@a[1]: 1
@h[1]: {3:1}`, events: `helper_error "map_delete_elem" -2`},

	{name: "cell", src: `@c = 5;
print(@c);
@c`, opts: fileOptions{cell: true}, maps: `@c: 5`, events: `print_map @c 0 0
result @c`},

	{name: "pointers", src: `BEGIN {
		@p = (int32 *)32; @p--; @p--;
		$q = (int16 *)32; $q += 1; $q++; @q = $q;
		@u = (uint64 *)8; @u += 2;
		$a = buf("hi", 2); $b = buf("bye", 3);
		@beq = $a == $a; @bne = $a != $b;
	}`, maps: `@beq: 1
@bne: 1
@p: 0x18
@q: 0x24
@u: 0x18`},

	{name: "begin_end_one_probe", src: `BEGIN, END { printf("hello\n"); }`, events: `printf "hello\n"
printf "hello\n"`},

	{name: "positional", src: `BEGIN { printf("%d %s %d\n", $1, str($2), $#); @p = $1 * 2; }`,
		opts: fileOptions{params: []string{"42", "hello"}}, maps: `@p: 84`, events: `printf "%d %s %d\n" 42 hello 2`},

	// Integer parameters read with C's base rules, as bpftrace 0.17's
	// std::stoll(s, &idx, 0), except where bpftrace wants a literal
	// (unroll's count, strncmp's length), where it reads their leading
	// decimal digits (std::stol): "010" is 8 as a value, 10 there.
	// "08" is no number, so a string. (Checked against bpftrace 0.17.)
	{name: "positional_bases", src: `BEGIN { @a = $1; @b = $2; @c = $3; @d = $4; unroll($4) { @n++; }
		@m = strncmp("abcdefgh", "abcdefghX", $4); @s = $5; }`,
		opts: fileOptions{params: []string{"0775", "-0x10", " 12", "010", "08"}}, maps: `@a: 509
@b: -16
@c: 12
@d: 8
@m: 1
@n: 10
@s: 08`},
}

func TestExec(t *testing.T) {
	for _, tt := range execTests {
		t.Run(tt.name, func(t *testing.T) {
			maps, events := runSource(t, tt.src, tt.opts)
			if got, want := maps, strings.TrimSpace(tt.maps); got != want {
				t.Errorf("maps:\n%s\nwant:\n%s", got, want)
			}
			if got, want := events, strings.TrimSpace(tt.events); got != want {
				t.Errorf("events:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
