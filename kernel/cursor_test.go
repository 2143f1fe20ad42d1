package kernel

import "testing"

func TestCursorConversion(t *testing.T) {
	code := "aé中😀b" // 1, 2, 3 and 4 bytes, then 1
	runeToByteCases := []struct{ cp, b int }{
		{-5, 0}, {0, 0}, {1, 1}, {2, 3}, {3, 6}, {4, 10}, {5, 11}, {6, 11}, {1000, 11},
	}
	for _, c := range runeToByteCases {
		if got := runeToByte(code, c.cp); got != c.b {
			t.Errorf("runeToByte(%d) = %d, want %d", c.cp, got, c.b)
		}
	}
	byteToRuneCases := []struct{ b, cp int }{
		{-1, 0}, {0, 0}, {1, 1}, {2, 1}, {3, 2}, {6, 3}, {8, 3}, {10, 4}, {11, 5}, {99, 5},
	}
	for _, c := range byteToRuneCases {
		if got := byteToRune(code, c.b); got != c.cp {
			t.Errorf("byteToRune(%d) = %d, want %d", c.b, got, c.cp)
		}
	}
	if runeToByte("", 3) != 0 || byteToRune("", 3) != 0 {
		t.Error("empty code")
	}
}
