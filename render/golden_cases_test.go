package render

import (
	"github.com/tracebook/tracebook/runtime/value"
)

// goldenCases lists the programs recorded from bpftrace 0.17. Keep each
// program deterministic: BEGIN only, no ties between equal counts (their
// order is the kernel's hash order), no addresses.
func goldenCases() []goldenCase {
	K := key
	cs := []goldenCase{
		// --- scalars and aggregations -------------------------------
		{name: "count_scalar", json: true,
			prog:  `BEGIN { @c = count(); @c = count(); @c = count(); exit(); }`,
			build: onlyMaps(newMap("@c", value.MapCount).add(nil, 0, 0, 0))},
		{name: "count_keyed", json: true,
			prog:  `BEGIN { @kc["a"] = count(); @kc["a"] = count(); @kc["b"] = count(); @kc["c"] = count(); @kc["c"] = count(); @kc["c"] = count(); exit(); }`,
			build: onlyMaps(newMap("@kc", value.MapCount).add(K(str("a")), 0, 0).add(K(str("b")), 0).add(K(str("c")), 0, 0, 0))},
		{name: "sum_signed", json: true,
			prog:  `BEGIN { @s = sum(10); @s = sum(-3); @ks[1] = sum(-5); @ks[2] = sum(7); @ks[3] = sum(-100); exit(); }`,
			build: onlyMaps(newMap("@s", value.MapSum).add(nil, 10, -3), newMap("@ks", value.MapSum).add(K(i64(1)), -5).add(K(i64(2)), 7).add(K(i64(3)), -100))},
		{name: "min_max", json: true,
			prog: `BEGIN { @mi = min(5); @mi = min(-7); @ma = max(3); @ma = max(10); @kmin[1] = min(5); @kmin[2] = min(-1); @kmax[1] = max(9); @kmax[2] = max(4); exit(); }`,
			build: onlyMaps(newMap("@mi", value.MapMin).add(nil, 5, -7), newMap("@ma", value.MapMax).add(nil, 3, 10),
				newMap("@kmin", value.MapMin).add(K(i64(1)), 5).add(K(i64(2)), -1),
				newMap("@kmax", value.MapMax).add(K(i64(1)), 9).add(K(i64(2)), 4))},
		{name: "avg_scalar", json: true,
			prog:  `BEGIN { @a = avg(10); @a = avg(5); @a = avg(-2); exit(); }`,
			build: onlyMaps(newMap("@a", value.MapAvg).add(nil, 10, 5, -2))},
		{name: "avg_negative", json: true,
			prog:  `BEGIN { @a = avg(-10); @a = avg(-5); @b[1] = avg(-7); @b[1] = avg(2); @b[2] = avg(100); exit(); }`,
			build: onlyMaps(newMap("@a", value.MapAvg).add(nil, -10, -5), newMap("@b", value.MapAvg).add(K(i64(1)), -7, 2).add(K(i64(2)), 100))},
		{name: "avg_keyed", json: true,
			prog:  `BEGIN { @ka["x"] = avg(100); @ka["y"] = avg(1); @ka["y"] = avg(2); @ka["z"] = avg(50); exit(); }`,
			build: onlyMaps(newMap("@ka", value.MapAvg).add(K(str("x")), 100).add(K(str("y")), 1, 2).add(K(str("z")), 50))},
		{name: "stats_scalar", json: true,
			prog:  `BEGIN { @st = stats(10); @st = stats(20); @st = stats(-3); exit(); }`,
			build: onlyMaps(newMap("@st", value.MapStats).add(nil, 10, 20, -3))},
		{name: "stats_keyed", json: true,
			prog:  `BEGIN { @kst["p"] = stats(5); @kst["q"] = stats(1); @kst["q"] = stats(3); exit(); }`,
			build: onlyMaps(newMap("@kst", value.MapStats).add(K(str("p")), 5).add(K(str("q")), 1, 3))},
		{name: "int_values", json: true,
			prog:  `BEGIN { @i = 42; @n = -42; @k[1] = 30; @k[2] = -10; @k[3] = 20; exit(); }`,
			build: onlyMaps(newMap("@i", 0).set(i64(42)), newMap("@n", 0).set(i64(-42)), newMap("@k", 0).set(i64(30), i64(1)).set(i64(-10), i64(2)).set(i64(20), i64(3)))},
		{name: "uint32_values", json: true,
			prog:  `BEGIN { @u[1] = (uint32)5; @u[2] = (uint32)-1; @u[3] = (uint32)7; @w = (uint16)65535; exit(); }`,
			build: onlyMaps(newMap("@u", 0).set(u32(5), i64(1)).set(u32(0xffffffff), i64(2)).set(u32(7), i64(3)), newMap("@w", 0).set(value.Int{Bits: 65535, Size: 2}))},
		{name: "string_values_int_keys", json: true,
			prog:  `BEGIN { @m[1] = "pos"; @m[-1] = "neg"; @m[0] = "zero"; @m[100] = "big"; exit(); }`,
			build: onlyMaps(newMap("@m", 0).set(str("pos"), i64(1)).set(str("neg"), i64(-1)).set(str("zero"), i64(0)).set(str("big"), i64(100)))},
		{name: "string_keys_sorted", json: true,
			prog:  `BEGIN { @m["b"] = "2"; @m["a"] = "1"; @m["ab"] = "3"; @m["B"] = "4"; @m[""] = "5"; exit(); }`,
			build: onlyMaps(newMap("@m", 0).set(str("2"), str("b")).set(str("1"), str("a")).set(str("3"), str("ab")).set(str("4"), str("B")).set(str("5"), str("")))},
		{name: "multi_key_strings", json: true,
			prog: `BEGIN { @m[2, "b"] = "x"; @m[1, "z"] = "y"; @m[1, "a"] = "w"; @m[2, "a"] = "v"; exit(); }`,
			build: onlyMaps(newMap("@m", 0).set(str("x"), i64(2), str("b")).set(str("y"), i64(1), str("z")).
				set(str("w"), i64(1), str("a")).set(str("v"), i64(2), str("a")))},
		{name: "multi_key_count", json: true,
			prog:  `BEGIN { @mk[1, "z"] = count(); @mk[1, "z"] = count(); @mk[2, "b"] = count(); @mk[1, "a"] = count(); @mk[1, "a"] = count(); @mk[1, "a"] = count(); exit(); }`,
			build: onlyMaps(newMap("@mk", value.MapCount).add(K(i64(1), str("z")), 0, 0).add(K(i64(2), str("b")), 0).add(K(i64(1), str("a")), 0, 0, 0))},
		{name: "tuple_values", json: true,
			prog:  `BEGIN { @tup = (1, "two", -3); @nest = (1, "x", (2, 3)); @kt[1] = (4, "d"); @kt[0] = (5, "e"); exit(); }`,
			build: onlyMaps(newMap("@tup", 0).set(tup(i64(1), str("two"), i64(-3))), newMap("@nest", 0).set(tup(i64(1), str("x"), tup(i64(2), i64(3)))), newMap("@kt", 0).set(tup(i64(4), str("d")), i64(1)).set(tup(i64(5), str("e")), i64(0)))},
		{name: "map_name_order", json: true,
			prog:  `BEGIN { @a = 1; @ = 2; @_ = 3; @A = 4; @b2 = 5; @B = 6; @aa = 7; exit(); }`,
			build: onlyMaps(newMap("@a", 0).set(i64(1)), newMap("@", 0).set(i64(2)), newMap("@_", 0).set(i64(3)), newMap("@A", 0).set(i64(4)), newMap("@b2", 0).set(i64(5)), newMap("@B", 0).set(i64(6)), newMap("@aa", 0).set(i64(7)))},
		{name: "unnamed_keyed", json: true,
			prog:  `BEGIN { @[1] = count(); @[2] = count(); @[2] = count(); exit(); }`,
			build: onlyMaps(newMap("@", value.MapCount).add(K(i64(1)), 0).add(K(i64(2)), 0, 0))},
		{name: "empty_maps", json: true,
			prog:  `BEGIN { @c[1] = count(); clear(@c); @a[1] = avg(1); clear(@a); @s[1] = stats(1); clear(@s); @h[1] = hist(1); clear(@h); @m[1] = "x"; delete(@m[1]); @z = 1; exit(); }`,
			build: onlyMaps(newMap("@c", value.MapCount), newMap("@a", value.MapAvg), newMap("@s", value.MapStats), newMap("@h", value.MapHist), newMap("@m", 0), newMap("@z", 0).set(i64(1)))},
		{name: "cleared_scalars", json: true,
			prog: `BEGIN { @x = count(); clear(@x); @w = 5; zero(@w); @b = avg(3); clear(@b); exit(); }`,
			// clear() of a scalar count zeroes it (an entry remains); of an
			// avg it deletes.
			build: onlyMaps(newMap("@x", value.MapCount).set(value.Count{}), newMap("@w", 0).set(i64(0)), newMap("@b", value.MapAvg))},
		{name: "zeroed_hist", json: true,
			prog:  `BEGIN { @h = hist(5); zero(@h); @k[1] = hist(3); @k[2] = hist(100); zero(@k); @y = 1; exit(); }`,
			build: onlyMaps(newMap("@h", value.MapHist).add(nil), newMap("@k", value.MapHist).add(K(i64(1))).add(K(i64(2))), newMap("@y", 0).set(i64(1)))},

		// --- hist -----------------------------------------------------
		{name: "hist_small", json: true,
			prog:  `BEGIN { @h = hist(-1); @h = hist(-100); @h = hist(0); @h = hist(0); @h = hist(1); @h = hist(2); @h = hist(3); @h = hist(5); exit(); }`,
			build: onlyMaps(newMap("@h", value.MapHist).add(nil, -1, -100, 0, 0, 1, 2, 3, 5))},
		{name: "hist_gaps", json: true,
			prog:  `BEGIN { @h = hist(4); @h = hist(600); @h = hist(1000); @h = hist(1500); @h = hist(1048576); exit(); }`,
			build: onlyMaps(newMap("@h", value.MapHist).add(nil, 4, 600, 1000, 1500, 1048576))},
		// JSON is not compared here: 0.17 prints the [2G, 4G) bucket's
		// bounds as "min": -2147483648, "max": 0 (an int overflow); render
		// prints the true bounds. TestHistJSONTopBuckets covers them.
		{name: "hist_to_4g",
			prog:  `BEGIN { @h = hist(1073741824); @h = hist(2147483648); @h = hist(2147483648); @h = hist(4294967295); @h = hist(65536); exit(); }`,
			build: onlyMaps(newMap("@h", value.MapHist).add(nil, 1073741824, 2147483648, 2147483648, 4294967295, 65536))},
		{name: "hist_bars", json: true,
			prog:  `BEGIN { $i = 0; while ($i < 7) { @h = hist(1); $i++; } @h = hist(2); @h = hist(4); @h = hist(4); @h = hist(8); @h = hist(8); @h = hist(8); @h = hist(16); @h = hist(16); @h = hist(16); @h = hist(16); @h = hist(16); @h = hist(16); exit(); }`,
			build: onlyMaps(newMap("@h", value.MapHist).add(nil, 1, 1, 1, 1, 1, 1, 1, 2, 4, 4, 8, 8, 8, 16, 16, 16, 16, 16, 16))},
		{name: "hist_single_zero", json: true,
			prog:  `BEGIN { @h = hist(0); @n = hist(-5); exit(); }`,
			build: onlyMaps(newMap("@h", value.MapHist).add(nil, 0), newMap("@n", value.MapHist).add(nil, -5))},
		{name: "hist_keyed", json: true,
			prog:  `BEGIN { @kh["b"] = hist(5); @kh["a"] = hist(5); @kh["a"] = hist(6); @kh["c"] = hist(100); @kh["c"] = hist(1); @kh["c"] = hist(1000); exit(); }`,
			build: onlyMaps(newMap("@kh", value.MapHist).add(K(str("b")), 5).add(K(str("a")), 5, 6).add(K(str("c")), 100, 1, 1000))},
		{name: "hist_keyed_ties", json: true,
			prog:  `BEGIN { @h[2] = hist(3); @h[1] = hist(3); @h[256] = hist(3); @h[3] = hist(8); exit(); }`,
			build: onlyMaps(newMap("@h", value.MapHist).add(K(i64(2)), 3).add(K(i64(1)), 3).add(K(i64(256)), 3).add(K(i64(3)), 8))},
		{name: "hist_keyed_string_ties", json: true,
			prog:  `BEGIN { @h["bb"] = hist(3); @h["a"] = hist(3); @h["b"] = hist(3); exit(); }`,
			build: onlyMaps(newMap("@h", value.MapHist).add(K(str("bb")), 3).add(K(str("a")), 3).add(K(str("b")), 3))},
		{name: "hist_big_counts", json: true,
			prog: `BEGIN { $i = 0; while ($i < 1000) { @h = hist(10); @h = hist(10); @h = hist(10); @h = hist(3); $i++; } @h = hist(200); exit(); }`,
			build: func() ([]value.Event, []*value.Map) {
				m := newMap("@h", value.MapHist)
				for range 1000 {
					m.add(nil, 10, 10, 10, 3)
				}
				m.add(nil, 200)
				return nil, maps(m)
			}},

		// --- lhist ----------------------------------------------------
		{name: "lhist_basic", json: true,
			prog:  `BEGIN { @l = lhist(-5, 0, 100, 10); @l = lhist(0, 0, 100, 10); @l = lhist(55, 0, 100, 10); @l = lhist(100, 0, 100, 10); @l = lhist(1000, 0, 100, 10); exit(); }`,
			build: onlyMaps(newMap("@l", value.MapLhist).lhist(0, 100, 10).add(nil, -5, 0, 55, 100, 1000))},
		{name: "lhist_k_labels", json: true,
			prog:  `BEGIN { @l = lhist(2048, 0, 4096, 1024); @l = lhist(1024, 0, 4096, 1024); @m = lhist(1048576, 1024, 3145728, 1048576); exit(); }`,
			build: onlyMaps(newMap("@l", value.MapLhist).lhist(0, 4096, 1024).add(nil, 2048, 1024), newMap("@m", value.MapLhist).lhist(1024, 3145728, 1048576).add(nil, 1048576))},
		{name: "lhist_inner", json: true,
			prog:  `BEGIN { @l = lhist(25, 10, 50, 5); @l = lhist(26, 10, 50, 5); @l = lhist(40, 10, 50, 5); exit(); }`,
			build: onlyMaps(newMap("@l", value.MapLhist).lhist(10, 50, 5).add(nil, 25, 26, 40))},
		{name: "lhist_uneven_step", json: true,
			prog:  `BEGIN { @l = lhist(9, 0, 10, 3); @l = lhist(4, 0, 10, 3); @l = lhist(11, 0, 10, 3); exit(); }`,
			build: onlyMaps(newMap("@l", value.MapLhist).lhist(0, 10, 3).add(nil, 9, 4, 11))},
		{name: "lhist_edges", json: true,
			prog:  `BEGIN { @u = lhist(-1, 5, 10, 1); @o = lhist(20, 5, 10, 1); exit(); }`,
			build: onlyMaps(newMap("@u", value.MapLhist).lhist(5, 10, 1).add(nil, -1), newMap("@o", value.MapLhist).lhist(5, 10, 1).add(nil, 20))},
		{name: "lhist_keyed", json: true,
			prog:  `BEGIN { @l[1] = lhist(3, 0, 10, 1); @l[1] = lhist(3, 0, 10, 1); @l[2] = lhist(7, 0, 10, 1); exit(); }`,
			build: onlyMaps(newMap("@l", value.MapLhist).lhist(0, 10, 1).add(K(i64(1)), 3, 3).add(K(i64(2)), 7))},

		// --- value kinds with quirks ------------------------------------
		{name: "inet_values_no_delim", json: true,
			prog: `BEGIN { @m[1] = ntop(2, 0x0100007f); @m[2] = ntop(2, 0x0200007f); @x = 1; exit(); }`,
			build: onlyMaps(newMap("@m", 0).set(value.Text{Kind: value.TextInet, S: "127.0.0.1"}, i64(1)).set(value.Text{Kind: value.TextInet, S: "127.0.0.2"}, i64(2)),
				newMap("@x", 0).set(i64(1)))},
		{name: "ksym_values_no_delim", json: true,
			prog: `BEGIN { @y[1] = ksym(0); @y[2] = ksym(1); @z = 2; exit(); }`,
			build: onlyMaps(newMap("@y", 0).set(value.Text{Kind: value.TextKSym, S: "0"}, i64(1)).set(value.Text{Kind: value.TextKSym, S: "0x1", Raw: 1}, i64(2)),
				newMap("@z", 0).set(i64(2)))},
		{name: "buffer_and_pointer", json: true,
			prog:  `BEGIN { @b[buf("a\x02", 2)] = count(); @p[(int8*)255] = 1; @q = (int8*)1234; exit(); }`,
			build: onlyMaps(newMap("@b", value.MapCount).add(K(value.Buffer{B: []byte("a\x02")}), 0), newMap("@p", 0).set(i64(1), value.Pointer{Addr: 255}), newMap("@q", 0).set(value.Pointer{Addr: 1234}))},
		{name: "escaped_strings", json: true,
			prog:  `BEGIN { @s["a\"b"] = 3; @t["tab\there"] = 4; @n["new\nline"] = "v\\w"; exit(); }`,
			build: onlyMaps(newMap("@s", 0).set(i64(3), str("a\"b")), newMap("@t", 0).set(i64(4), str("tab\there")), newMap("@n", 0).set(str("v\\w"), str("new\nline")))},
		{name: "negative_int_keys", json: true,
			prog:  `BEGIN { @k[-1] = count(); @k[5] = count(); @k[5] = count(); @j[(int32)-2] = "a"; @j[(int32)3] = "b"; exit(); }`,
			build: onlyMaps(newMap("@k", value.MapCount).add(K(i64(-1)), 0).add(K(i64(5)), 0, 0), newMap("@j", 0).set(str("a"), i32(-2)).set(str("b"), i32(3)))},
		{name: "usym_probe_username", json: true,
			prog: `BEGIN { @u = usym(0); @p[probe] = count(); @n[username] = count(); exit(); }`,
			build: onlyMaps(newMap("@u", 0).set(value.Text{Kind: value.TextUSym, S: "0"}), newMap("@p", value.MapCount).add(K(value.Text{Kind: value.TextProbe, S: "BEGIN"}), 0),
				newMap("@n", value.MapCount).add(K(value.Text{Kind: value.TextUsername, S: "root"}), 0))},
	}
	cs = append(cs, printCases()...)
	cs = append(cs, printfCases()...)
	return cs
}

// printCases cover print(): of values, and of maps with top and div.
func printCases() []goldenCase {
	K := key
	count3 := func() *mapB {
		return newMap("@c", value.MapCount).add(K(str("a")), 0).add(K(str("b")), 0, 0).add(K(str("c")), 0, 0, 0, 0, 0).add(K(str("d")), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	return []goldenCase{
		{name: "print_values", json: true,
			prog: `BEGIN { print(1); print(-5); print((uint32)-1); print("str"); print((1, "two", -3)); print((1, "x", (2, 3))); print(buf("ab\x01", 3)); print("q\"\\"); print(ntop(2, 0x0100007f)); print(username); print(probe); exit(); }`,
			build: func() ([]value.Event, []*value.Map) {
				return []value.Event{
					value.Print{Value: i64(1)}, value.Print{Value: i64(-5)}, value.Print{Value: u32(0xffffffff)},
					value.Print{Value: str("str")}, value.Print{Value: tup(i64(1), str("two"), i64(-3))},
					value.Print{Value: tup(i64(1), str("x"), tup(i64(2), i64(3)))},
					value.Print{Value: value.Buffer{B: []byte("ab\x01")}}, value.Print{Value: str("q\"\\")},
					value.Print{Value: value.Text{Kind: value.TextInet, S: "127.0.0.1"}},
					value.Print{Value: value.Text{Kind: value.TextUsername, S: "root"}},
					value.Print{Value: value.Text{Kind: value.TextProbe, S: "BEGIN"}},
				}, nil
			}},
		{name: "print_map_top_div", json: true,
			prog: `BEGIN { @c["a"] = count(); $i = 0; while ($i < 2) { @c["b"] = count(); $i++; } $i = 0; while ($i < 5) { @c["c"] = count(); $i++; } $i = 0; while ($i < 11) { @c["d"] = count(); $i++; } print(@c); print(@c, 2); print(@c, 0, 2); print(@c, 3, 5); print(@c, 10); clear(@c); print(@c); exit(); }`,
			build: func() ([]value.Event, []*value.Map) {
				m := count3().done()
				return []value.Event{
					value.PrintMap{Map: m}, value.PrintMap{Map: m, Top: 2}, value.PrintMap{Map: m, Div: 2},
					value.PrintMap{Map: m, Top: 3, Div: 5}, value.PrintMap{Map: m, Top: 10},
					value.PrintMap{Map: newMap("@c", value.MapCount).done()},
				}, maps(newMap("@c", value.MapCount))
			}},
		{name: "print_agg_div", json: true,
			prog: `BEGIN { @s = sum(-7); @mi = min(-9); @ma = max(9); @i = -9; @st = stats(5); @a[1] = avg(10); @a[2] = avg(20); @a[3] = avg(-30); print(@s, 0, 2); print(@mi, 0, 2); print(@ma, 0, 2); print(@i, 0, 2); print(@a, 2, 3); print(@st, 1, 2); exit(); }`,
			build: func() ([]value.Event, []*value.Map) {
				s := newMap("@s", value.MapSum).add(nil, -7).done()
				mi := newMap("@mi", value.MapMin).add(nil, -9).done()
				ma := newMap("@ma", value.MapMax).add(nil, 9).done()
				i := newMap("@i", 0).set(i64(-9)).done()
				st := newMap("@st", value.MapStats).add(nil, 5).done()
				a := newMap("@a", value.MapAvg).add(K(i64(1)), 10).add(K(i64(2)), 20).add(K(i64(3)), -30).done()
				return []value.Event{
					value.PrintMap{Map: s, Div: 2}, value.PrintMap{Map: mi, Div: 2}, value.PrintMap{Map: ma, Div: 2},
					value.PrintMap{Map: i, Div: 2}, value.PrintMap{Map: a, Top: 2, Div: 3}, value.PrintMap{Map: st, Top: 1, Div: 2},
				}, []*value.Map{s, mi, ma, i, st, a}
			}},
		{name: "print_hist_div", json: true,
			prog: `BEGIN { @h = hist(5); @h = hist(5); @h = hist(5); @h = hist(100); @l = lhist(5, 0, 10, 1); @l = lhist(5, 0, 10, 1); @l = lhist(6, 0, 10, 1); print(@h, 0, 2); print(@l, 0, 2); exit(); }`,
			build: func() ([]value.Event, []*value.Map) {
				h := newMap("@h", value.MapHist).add(nil, 5, 5, 5, 100).done()
				l := newMap("@l", value.MapLhist).lhist(0, 10, 1).add(nil, 5, 5, 6).done()
				return []value.Event{value.PrintMap{Map: h, Div: 2}, value.PrintMap{Map: l, Div: 2}}, []*value.Map{h, l}
			}},
		{name: "print_keyed_hist_top", json: true,
			prog: `BEGIN { @h[1] = hist(5); @h[2] = hist(5); @h[2] = hist(50); @h[3] = hist(1); @h[3] = hist(1); @h[3] = hist(1); print(@h, 1); print(@h, 2); exit(); }`,
			build: func() ([]value.Event, []*value.Map) {
				h := newMap("@h", value.MapHist).add(K(i64(1)), 5).add(K(i64(2)), 5, 50).add(K(i64(3)), 1, 1, 1).done()
				return []value.Event{value.PrintMap{Map: h, Top: 1}, value.PrintMap{Map: h, Top: 2}}, []*value.Map{h}
			}},
		{name: "cat_file", json: true,
			prog: `BEGIN { cat("/proc/sys/kernel/ostype"); printf("after\n"); exit(); }`,
			build: func() ([]value.Event, []*value.Map) {
				return []value.Event{value.Cat{Text: "Linux\n"}, printfEv("after\n")}, nil
			}},
	}
}

// printfCases check C snprintf semantics, one concern per case.
func printfCases() []goldenCase {
	type pc struct {
		name, format, args string
		vals               []value.Value
	}
	cases := []pc{
		{"printf_verified_line", `%d|%u|%x|%X|%o|%s|%c|%p|%%|%5d|%-5d|%05d|%lu|%llx|%ld|%hhd|%-8s|%8s|\n`,
			`-1,-1,255,255,8,"str",65,4096,7,8,9,10,0xabc,-11,300,"ab","cd"`,
			[]value.Value{i64(-1), i64(-1), i64(255), i64(255), i64(8), str("str"), i64(65), i64(4096), i64(7), i64(8), i64(9), i64(10), i64(0xabc), i64(-11), i64(300), str("ab"), str("cd")}},
		{"printf_32bit_truncation", `%d %u %x %ld %lu %lx\n`, `4294967301, 4294967301, 4294967301, 4294967301, 4294967301, 4294967301`,
			[]value.Value{i64(4294967301), i64(4294967301), i64(4294967301), i64(4294967301), i64(4294967301), i64(4294967301)}},
		{"printf_negative_widths", `%d|%u|%lu|%lld|%llu|%i\n`, `-5, -5, -5, -5, -5`,
			[]value.Value{i64(-5), i64(-5), i64(-5), i64(-5), i64(-5)}},
		{"printf_short_char", `%hd|%hu|%hx|%hhd|%hhu|%hhx|%hhX\n`, `70000, 70000, -1, 200, 200, -1, 171`,
			[]value.Value{i64(70000), i64(70000), i64(-1), i64(200), i64(200), i64(-1), i64(171)}},
		{"printf_widths", `[%10d][%-10d][%010d][%3d][%-3d][%08x][%-8X][%8o]\n`, `42, 42, -42, 12345, 12345, 48879, 48879, 64`,
			[]value.Value{i64(42), i64(42), i64(-42), i64(12345), i64(12345), i64(48879), i64(48879), i64(64)}},
		{"printf_precision", `[%.5d][%8.3d][%-8.3d][%.0d][%.3x][%.2s][%5.1s][%-5.3s][%.10s]\n`, `42, 7, 7, 0, 10, "abcdef", "xyz", "hello", "short"`,
			[]value.Value{i64(42), i64(7), i64(7), i64(0), i64(10), str("abcdef"), str("xyz"), str("hello"), str("short")}},
		{"printf_zero_precision_pad", `[%08.3d][%-08d][%05s]\n`, `5, 5, "ab"`,
			[]value.Value{i64(5), i64(5), str("ab")}},
		{"printf_pointer", `[%p][%p][%20p][%-20p][%018p]\n`, `0, 255, 0xffff888012345678, 16, 4096`,
			[]value.Value{i64(0), i64(255), u64(0xffff888012345678), i64(16), i64(4096)}},
		{"printf_char", `[%c][%3c][%-3c][%c%c%c]\n`, `65, 66, 67, 0x141, 104, 105`,
			[]value.Value{i64(65), i64(66), i64(67), i64(0x141), i64(104), i64(105)}},
		{"printf_char_nul", `a%cb|%5c|c\n`, `0, 0`,
			[]value.Value{i64(0), i64(0)}},
		{"printf_64bit_lengths", `%jd %zu %td %jx %lo %llX\n`, `-1, -1, -2, -1, 8, 0xabcdef0123`,
			[]value.Value{i64(-1), i64(-1), i64(-2), i64(-1), i64(8), i64(0xabcdef0123)}},
		{"printf_percent_quirk", `100%%\n`, ``, nil},
		{"printf_percent_before_spec", `%d %%\n`, `1`, []value.Value{i64(1)}},
		{"printf_percent_middle", `%% %d %%%d %%\n`, `1, 2`, []value.Value{i64(1), i64(2)}},
		{"printf_strings", `[%s][%s][%10s][%-10s]\n`, `"", "x y", "right", "left"`,
			[]value.Value{str(""), str("x y"), str("right"), str("left")}},
		{"printf_text_kinds", `%s|%s|%s|%s|%s\n`, `ntop(2, 0x0100007f), strerror(2), usym(0), probe, username`,
			[]value.Value{value.Text{Kind: value.TextInet, S: "127.0.0.1"}, value.Text{Kind: value.TextStrerror, S: "No such file or directory", Raw: 2},
				value.Text{Kind: value.TextUSym, S: "0"}, value.Text{Kind: value.TextProbe, S: "BEGIN"}, value.Text{Kind: value.TextUsername, S: "root"}}},
		{"printf_buffers", `%r|%rx|%rh|[%10r]\n`, `buf("abc\x01", 4), buf("abc\x01", 4), buf("abc\x01", 4), buf("hi", 2)`,
			[]value.Value{value.Buffer{B: []byte("abc\x01")}, value.Buffer{B: []byte("abc\x01")}, value.Buffer{B: []byte("abc\x01")}, value.Buffer{B: []byte("hi")}}},
		{"printf_unsigned_casts", `%d %u %d %u\n`, `(uint8)255, (int8)-1, (uint16)65535, (int32)-1`,
			[]value.Value{value.Int{Bits: 255, Size: 1}, value.Int{Bits: ^uint64(0), Signed: true, Size: 1}, value.Int{Bits: 65535, Size: 2}, i32(-1)}},
		{"printf_no_newline_then_text", `no newline`, ``, nil},
		{"printf_escapes", `tab\there\\back \"q\"\n`, ``, nil},
		{"printf_hex_alt", `%x %X %lx %llX\n`, `-1, -1, -1, 3735928559`,
			[]value.Value{i64(-1), i64(-1), i64(-1), i64(3735928559)}},
	}
	var out []goldenCase
	for _, c := range cases {
		c := c
		args := ""
		if c.args != "" {
			args = ", " + c.args
		}
		out = append(out, goldenCase{
			name: c.name, json: true,
			prog: `BEGIN { printf("` + c.format + `"` + args + `); exit(); }`,
			build: func() ([]value.Event, []*value.Map) {
				return []value.Event{printfEv(unescapeC(c.format), c.vals...)}, nil
			},
		})
	}
	return out
}

// unescapeC decodes the escapes bpftrace's lexer decodes in strings.
func unescapeC(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b = append(b, s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case '\\':
			b = append(b, '\\')
		case '"':
			b = append(b, '"')
		default:
			b = append(b, '\\', s[i])
		}
	}
	return string(b)
}
