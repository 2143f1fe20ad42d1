package runtime

import (
	"os"
	"testing"
)

// TestSystemLdCacheKept checks that /etc/ld.so.cache is parsed once while
// it is unchanged: every uprobe on a library by name resolves through it.
func TestSystemLdCacheKept(t *testing.T) {
	if _, err := os.Stat("/etc/ld.so.cache"); err != nil {
		t.Skip("no /etc/ld.so.cache:", err)
	}
	a, err := systemLdCache()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := systemLdCache()
	if len(a) == 0 || len(a) != len(b) || &a[0] != &b[0] {
		t.Errorf("ld.so.cache parsed again (%d, %d entries)", len(a), len(b))
	}
	if p := findInLdCache("c"); p == "" {
		t.Errorf("libc not found through the cached ld.so.cache")
	}
}
