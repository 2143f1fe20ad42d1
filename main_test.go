package main

import (
	"os"
	"testing"

	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// asCommandEnv makes the test binary run as the tracebook command: the
// process tests (kernel_process_test.go, leak_test.go) start it with
// tracebook's arguments, so they test this build of the command without
// depending on bin/tracebook being fresh.
const asCommandEnv = "TRACEBOOK_TEST_AS_COMMAND"

// TestMain is the fd-leak check of runtimetest (the command's runs in
// this package load programs and attach probes in-process). A test binary
// started as the command, or as the helper a run hands its perf events to
// at exit (runtime/release.go, which re-executes /proc/self/exe: this
// binary, in tests), does that instead of running the tests again.
func TestMain(m *testing.M) {
	if os.Getenv(runtime.ReleaseEnv) != "" {
		os.Exit(runtime.ReleaseMain())
	}
	if os.Getenv(asCommandEnv) == "1" {
		os.Exit(dispatch(os.Args[1:]))
	}
	runtimetest.Main(m)
}

// tracebookArgv is the command line that runs this build as tracebook.
func tracebookArgv(t testing.TB, args ...string) []string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{self}, args...)
}
