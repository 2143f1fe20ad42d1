package codegen_test

import (
	"testing"

	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// Every test binary of this package checks that its tests leave no file
// descriptor (map, program, link, perf event, socket) open.
func TestMain(m *testing.M) { runtimetest.Main(m) }
