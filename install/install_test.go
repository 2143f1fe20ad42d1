package install

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func uid(n int) func() int { return func() int { return n } }

func TestKernelsDir(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"root default", Options{Getenv: env(nil), Geteuid: uid(0)}, "/usr/local/share/jupyter/kernels"},
		{"root default ignores JUPYTER_DATA_DIR", Options{Getenv: env(map[string]string{"JUPYTER_DATA_DIR": "/j"}), Geteuid: uid(0)}, "/usr/local/share/jupyter/kernels"},
		{"user default", Options{Getenv: env(map[string]string{"HOME": "/home/u"}), Geteuid: uid(1000)}, "/home/u/.local/share/jupyter/kernels"},
		{"--user", Options{Scope: User, Getenv: env(map[string]string{"HOME": "/root"}), Geteuid: uid(0)}, "/root/.local/share/jupyter/kernels"},
		{"--user XDG", Options{Scope: User, Getenv: env(map[string]string{"HOME": "/h", "XDG_DATA_HOME": "/x"}), Geteuid: uid(0)}, "/x/jupyter/kernels"},
		{"--user JUPYTER_DATA_DIR wins", Options{Scope: User, Getenv: env(map[string]string{"HOME": "/h", "XDG_DATA_HOME": "/x", "JUPYTER_DATA_DIR": "/j"}), Geteuid: uid(0)}, "/j/kernels"},
		{"--sys-prefix venv", Options{Scope: SysPrefix, Getenv: env(map[string]string{"VIRTUAL_ENV": "/venv"}), Geteuid: uid(0)}, "/venv/share/jupyter/kernels"},
		{"--sys-prefix conda", Options{Scope: SysPrefix, Getenv: env(map[string]string{"CONDA_PREFIX": "/conda"}), Geteuid: uid(0)}, "/conda/share/jupyter/kernels"},
		{"--prefix", Options{Scope: Prefix, Prefix: "/opt/p", Getenv: env(nil), Geteuid: uid(0)}, "/opt/p/share/jupyter/kernels"},
	}
	for _, tt := range tests {
		got, err := KernelsDir(tt.o)
		if err != nil || got != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := KernelsDir(Options{Scope: Prefix, Getenv: env(nil)}); err == nil {
		t.Error("--prefix without a directory accepted")
	}
	if _, err := KernelsDir(Options{Scope: User, Getenv: env(nil)}); err == nil {
		t.Error("--user without HOME accepted")
	}
}

func TestCheckName(t *testing.T) {
	for in, want := range map[string]string{"": "tracebook", "TraceBook": "tracebook", "bpf-trace_2.0": "bpf-trace_2.0"} {
		if got, err := CheckName(in); err != nil || got != want {
			t.Errorf("CheckName(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"a b", "a/b", "..", ".", "ünï", "x;rm"} {
		if _, err := CheckName(bad); err == nil {
			t.Errorf("CheckName(%q) accepted", bad)
		}
	}
}

func TestInstallAndUninstall(t *testing.T) {
	prefix := t.TempDir()
	bin := filepath.Join(t.TempDir(), "tracebook")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	o := Options{Scope: Prefix, Prefix: prefix, Name: "TB-Test", DisplayName: "bpftrace (test)",
		Binary: bin, ExtraArgs: []string{"--fake-executor"}, Getenv: env(nil), Geteuid: uid(0)}
	res, err := Install(o)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(prefix, "share", "jupyter", "kernels", "tb-test")
	if res.Dir != dir {
		t.Errorf("installed in %s, want %s", res.Dir, dir)
	}
	b, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	argv := spec["argv"].([]any)
	realBin, _ := filepath.EvalSymlinks(bin)
	if len(argv) != 4 || argv[0] != realBin || argv[1] != "--kernel" || argv[2] != "{connection_file}" || argv[3] != "--fake-executor" {
		t.Errorf("argv %v", argv)
	}
	if spec["interrupt_mode"] != "message" || spec["language"] != "bpftrace" || spec["display_name"] != "bpftrace (test)" {
		t.Errorf("kernel.json %s", b)
	}
	for _, f := range []string{"logo-32x32.png", "logo-64x64.png"} {
		fh, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		want := 32
		if strings.Contains(f, "64") {
			want = 64
		}
		if r := img.Bounds(); r.Dx() != want || r.Dy() != want {
			t.Errorf("%s is %v", f, r)
		}
	}
	svg, err := os.ReadFile(filepath.Join(dir, "logo-svg.svg"))
	if err != nil || !bytes.HasPrefix(svg, []byte("<svg")) {
		t.Errorf("logo-svg.svg: %v %.20q", err, svg)
	}
	// Installing again replaces.
	if _, err := Install(o); err != nil {
		t.Errorf("reinstall: %v", err)
	}
	removed, err := Uninstall(o)
	if err != nil || removed != dir {
		t.Fatalf("uninstall: %q %v", removed, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Error("kernelspec still there after uninstall")
	}
	if _, err := Uninstall(o); err == nil {
		t.Error("uninstalling a missing kernelspec should fail")
	}
}

func TestSudoSpec(t *testing.T) {
	spec, err := NewSpec(Options{Sudo: true, Binary: "/usr/local/bin/tracebook"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"sudo", "-n", "/usr/local/bin/tracebook", "--kernel", "{connection_file}"}
	if !slices.Equal(spec.Argv, want) {
		t.Errorf("argv %q, want %q", spec.Argv, want)
	}
}

func TestWarnings(t *testing.T) {
	bin := filepath.Join(os.TempDir(), "go-build-x", "tracebook")
	w := warnings(Options{Geteuid: uid(1000)}, Spec{Argv: []string{bin}})
	if len(w) != 2 || !strings.Contains(w[0], "temporary directory") || !strings.Contains(w[1], "setcap") {
		t.Errorf("warnings %q", w)
	}
	if w := warnings(Options{Sudo: true, Geteuid: uid(1000)}, Spec{Argv: []string{"sudo", "-n", "/usr/bin/tracebook"}}); len(w) != 0 {
		t.Errorf("sudo install warned %q", w)
	}
}
