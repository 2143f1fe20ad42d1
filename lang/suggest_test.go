package lang

import "testing"

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"count", "count", 0},
		{"conut", "count", 1}, // transposition
		{"cout", "count", 1}, {"countt", "count", 1}, {"kitten", "sitting", 3},
		{"hist", "lhist", 1}, {"printf", "print", 1},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"conut", "count"},
		{"prinft", "printf"},
		{"kstak", "kstack"},
		{"foo", ""}, // nothing close
		{"xy", ""},  // too short to guess
		{"hsit", "hist"},
		{"strncpm", "strncmp"},
	}
	for _, tt := range tests {
		if got := suggest(tt.name, funcNames()); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := suggest("AF_INTE", constNames()); got != "AF_INET" {
		t.Errorf("suggest(AF_INTE) = %q", got)
	}
	if got := suggest("@lat", []string{"@lats", "@x"}); got != "@lats" {
		t.Errorf("suggest(@lat) = %q", got)
	}
}
