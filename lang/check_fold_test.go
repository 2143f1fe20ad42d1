package lang

import "testing"

func TestFoldInt(t *testing.T) {
	tests := []struct {
		op       Op
		a, b     int64
		unsigned bool
		want     int64
		ok       bool
	}{
		{Add, 1, 2, false, 3, true},
		{Div, 7, 2, false, 3, true},
		{Div, -7, 2, false, -3, true},
		{Mod, -1, 16, false, -1, true},
		{Mod, -1, 16, true, 15, true}, // (uint64)-1 % 16
		{Div, -2, 2, true, 0x7fffffffffffffff, true},
		{Shr, -8, 1, false, -4, true},
		{Shr, -8, 1, true, 0x7ffffffffffffffc, true},
		{Lt, -1, 1, false, 1, true},
		{Lt, -1, 1, true, 0, true},
		{Div, 1, 0, false, 0, false},
		{Mod, 1, 0, true, 0, false},
		{Shl, 1, 64, false, 0, false},
		{Shl, 1, 4, false, 16, true},
		{LAnd, 2, 0, false, 0, true},
		{LOr, 0, 3, false, 1, true},
	}
	for _, tt := range tests {
		got, ok := foldInt(tt.op, tt.a, tt.b, tt.unsigned)
		if got != tt.want || ok != tt.ok {
			t.Errorf("foldInt(%s, %d, %d, unsigned=%v) = %d, %v; want %d, %v", tt.op, tt.a, tt.b, tt.unsigned, got, ok, tt.want, tt.ok)
		}
	}
}
