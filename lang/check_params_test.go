package lang_test

import (
	"testing"

	"github.com/tracebook/tracebook/lang"
)

// TestPositionalBases checks the value and type $1 gets from its text.
// The expectations are bpftrace 0.17's (bpftrace -e 'BEGIN { @ = $1; }'
// TEXT): std::stoll(text, &idx, 0) consuming the whole text, so C's base
// rules and the int64 range; anything else is not a number (bpftrace:
// "$1 used numerically but given ..."; tracebook: a string).
func TestPositionalBases(t *testing.T) {
	for _, tc := range []struct {
		text string
		num  bool
		want int64
	}{
		{"42", true, 42},
		{"0775", true, 509},
		{"010", true, 8},
		{"0x10", true, 16},
		{"0X1f", true, 31},
		{"+5", true, 5},
		{"-5", true, -5},
		{"+0x10", true, 16},
		{"-0x10", true, -16},
		{"-010", true, -8},
		{" 12", true, 12},
		{"0", true, 0},
		{"00", true, 0},
		{"0x7fffffffffffffff", true, 9223372036854775807},
		{"-0x8000000000000000", true, -9223372036854775808},
		{"-9223372036854775808", true, -9223372036854775808},
		{"08", false, 0},
		{"0x", false, 0},
		{"1e3", false, 0},
		{"0b101", false, 0},
		{"1_000", false, 0},
		{"12abc", false, 0},
		{"- 5", false, 0},
		{"0x1F ", false, 0},
		{"9223372036854775808", false, 0},
		{"0x8000000000000000", false, 0},
		{"0xffffffffffffffff", false, 0},
	} {
		prog, errs := lang.Parse("stdin", []byte("BEGIN { @ = $1; }"), &lang.ParseOptions{Params: []string{tc.text}})
		if errs.HasErrors() {
			t.Fatalf("%q: %v", tc.text, errs)
		}
		info, errs := lang.Check(prog, &lang.Config{Params: []string{tc.text}})
		if errs.HasErrors() {
			t.Fatalf("%q: %v", tc.text, errs)
		}
		var pos lang.Expr
		lang.Inspect(prog, func(n lang.Node) bool {
			if e, ok := n.(*lang.PositionalExpr); ok {
				pos = e
			}
			return true
		})
		v, isConst := info.Consts[pos]
		isInt := pos.Type().IsInt()
		if isInt != tc.num || isConst != tc.num || (tc.num && v != tc.want) {
			t.Errorf("$1 = %q: type %s, value %d (const %v); want number %v, %d", tc.text, pos.Type(), v, isConst, tc.num, tc.want)
		}
	}
}
