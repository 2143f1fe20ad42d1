// Package install writes and removes tracebook's Jupyter kernelspec: a
// directory named after the kernel holding kernel.json and the logos, in one
// of the places Jupyter searches (jupyter_client's kernelspec docs; the
// table in ../shared/reference/jupyter.md §5). It needs no Python: the
// locations follow jupyter_core's rules, written out here.
package install

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/sys/unix"
)

//go:generate go run gen_logo.go

//go:embed logo/logo-32x32.png logo/logo-64x64.png logo/logo-svg.svg
var logos embed.FS

// Scope says which of Jupyter's kernelspec directories to use.
type Scope int

const (
	// Default is System for root and User for everyone else, who could
	// not write the system directory anyway.
	Default Scope = iota
	// System is /usr/local/share/jupyter/kernels, what `jupyter kernelspec
	// install` uses without flags.
	System
	// User is $JUPYTER_DATA_DIR/kernels, else
	// ${XDG_DATA_HOME:-~/.local/share}/jupyter/kernels.
	User
	// SysPrefix is {sys.prefix}/share/jupyter/kernels of the Python that
	// runs Jupyter (a virtualenv or conda env, or /usr for Debian's).
	SysPrefix
	// Prefix is Options.Prefix/share/jupyter/kernels.
	Prefix
)

// DefaultName is the kernelspec name, the directory's name.
const DefaultName = "tracebook"

// DefaultDisplayName is what notebooks show in their kernel menus.
const DefaultDisplayName = "bpftrace"

// Options say where and how to install.
type Options struct {
	Scope  Scope
	Prefix string // with Scope Prefix

	Name        string // default DefaultName; lower-cased
	DisplayName string // default DefaultDisplayName

	// Sudo starts the kernel through `sudo -n`, for a Jupyter run by a user
	// allowed to run tracebook as root without a password.
	Sudo bool

	// Binary is the tracebook binary kernel.json runs; default: this one.
	Binary string
	// ExtraArgs are appended to the kernel's argv (tests add
	// --fake-executor).
	ExtraArgs []string

	// Getenv and Geteuid replace os.Getenv and os.Geteuid in tests.
	Getenv  func(string) string
	Geteuid func() int
}

func (o *Options) getenv(k string) string {
	if o.Getenv != nil {
		return o.Getenv(k)
	}
	return os.Getenv(k)
}

func (o *Options) euid() int {
	if o.Geteuid != nil {
		return o.Geteuid()
	}
	return os.Geteuid()
}

// Spec is kernel.json.
type Spec struct {
	Argv          []string `json:"argv"`
	DisplayName   string   `json:"display_name"`
	Language      string   `json:"language"`
	InterruptMode string   `json:"interrupt_mode"`
}

// Result says what Install did.
type Result struct {
	Dir      string // the kernelspec directory written
	Spec     Spec
	Warnings []string
}

var validName = regexp.MustCompile(`^[a-z0-9._-]+$`)

// CheckName lower-cases a kernelspec name and checks it against Jupyter's
// rule: letters, digits, '.', '_' and '-' only. Names of only dots are
// refused too, since the name is a directory.
func CheckName(name string) (string, error) {
	if name == "" {
		name = DefaultName
	}
	n := strings.ToLower(name)
	if !validName.MatchString(n) || strings.Trim(n, ".") == "" {
		return "", fmt.Errorf("kernel name %q: use only letters, digits, '.', '_' and '-'", name)
	}
	return n, nil
}

// KernelsDir is the kernels directory Options point at.
func KernelsDir(o Options) (string, error) {
	scope := o.Scope
	if scope == Default {
		scope = User
		if o.euid() == 0 {
			scope = System
		}
	}
	switch scope {
	case System:
		return "/usr/local/share/jupyter/kernels", nil
	case User:
		if d := o.getenv("JUPYTER_DATA_DIR"); d != "" {
			return filepath.Join(d, "kernels"), nil
		}
		if d := o.getenv("XDG_DATA_HOME"); d != "" {
			return filepath.Join(d, "jupyter", "kernels"), nil
		}
		home := o.getenv("HOME")
		if home == "" {
			return "", errors.New("cannot find the user's data directory: HOME is not set")
		}
		return filepath.Join(home, ".local", "share", "jupyter", "kernels"), nil
	case SysPrefix:
		p, err := sysPrefix(o)
		if err != nil {
			return "", err
		}
		return filepath.Join(p, "share", "jupyter", "kernels"), nil
	case Prefix:
		if o.Prefix == "" {
			return "", errors.New("--prefix needs a directory")
		}
		p, err := filepath.Abs(o.Prefix)
		if err != nil {
			return "", err
		}
		return filepath.Join(p, "share", "jupyter", "kernels"), nil
	}
	return "", fmt.Errorf("unknown scope %d", scope)
}

// sysPrefix finds sys.prefix of the Python that runs Jupyter without
// importing Python: an active virtualenv or conda env names it; otherwise
// the interpreter on the shebang line of the `jupyter` command is asked;
// failing all that, Debian's /usr.
func sysPrefix(o Options) (string, error) {
	for _, v := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if p := o.getenv(v); p != "" {
			return p, nil
		}
	}
	if py := jupyterPython(); len(py) > 0 {
		out, err := exec.Command(py[0], append(py[1:], "-c", "import sys; print(sys.prefix)")...).Output()
		if err == nil && strings.TrimSpace(string(out)) != "" {
			return strings.TrimSpace(string(out)), nil
		}
	}
	return "/usr", nil
}

// jupyterPython is the interpreter command from the `jupyter` script's
// shebang line, e.g. ["/usr/bin/python3"] or ["/usr/bin/env", "python3"].
func jupyterPython() []string {
	path, err := exec.LookPath("jupyter")
	if err != nil {
		return nil
	}
	b := make([]byte, 256)
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	n, _ := f.Read(b)
	line, _, _ := strings.Cut(string(b[:n]), "\n")
	if !strings.HasPrefix(line, "#!") {
		return nil
	}
	return strings.Fields(strings.TrimPrefix(line, "#!"))
}

// NewSpec builds kernel.json for o. interrupt_mode is "message": the
// interrupt arrives as interrupt_request on control, which works through
// sudo and remote launchers where a signal would not reach the kernel.
func NewSpec(o Options) (Spec, error) {
	bin := o.Binary
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return Spec{}, err
		}
		bin = exe
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		return Spec{}, err
	}
	if r, err := filepath.EvalSymlinks(bin); err == nil {
		bin = r
	}
	var argv []string
	if o.Sudo {
		argv = append(argv, "sudo", "-n")
	}
	argv = append(argv, bin, "--kernel", "{connection_file}")
	argv = append(argv, o.ExtraArgs...)
	display := o.DisplayName
	if display == "" {
		display = DefaultDisplayName
	}
	return Spec{Argv: argv, DisplayName: display, Language: "bpftrace", InterruptMode: "message"}, nil
}

// Install writes the kernelspec directory: kernel.json and the three logos
// Jupyter looks for (logo-32x32.png, logo-64x64.png, logo-svg.svg). An
// existing kernelspec of the same name is replaced.
func Install(o Options) (Result, error) {
	var res Result
	name, err := CheckName(o.Name)
	if err != nil {
		return res, err
	}
	kernels, err := KernelsDir(o)
	if err != nil {
		return res, err
	}
	spec, err := NewSpec(o)
	if err != nil {
		return res, err
	}
	res.Spec = spec
	res.Dir = filepath.Join(kernels, name)
	if err := os.MkdirAll(res.Dir, 0o755); err != nil {
		return res, err
	}
	js, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return res, err
	}
	if err := os.WriteFile(filepath.Join(res.Dir, "kernel.json"), append(js, '\n'), 0o644); err != nil {
		return res, err
	}
	for _, f := range []string{"logo-32x32.png", "logo-64x64.png", "logo-svg.svg"} {
		b, err := logos.ReadFile("logo/" + f)
		if err != nil {
			return res, err
		}
		if err := os.WriteFile(filepath.Join(res.Dir, f), b, 0o644); err != nil {
			return res, err
		}
	}
	res.Warnings = warnings(o, spec)
	return res, nil
}

// warnings point out kernelspecs that install fine but will not work well.
func warnings(o Options, spec Spec) []string {
	var w []string
	bin := spec.Argv[0]
	if o.Sudo {
		bin = spec.Argv[2]
	}
	if strings.HasPrefix(bin, os.TempDir()+string(filepath.Separator)) {
		w = append(w, fmt.Sprintf("the kernel runs %s, which is in a temporary directory (go run?): build tracebook and install from there", bin))
	}
	if !o.Sudo && o.euid() != 0 && !hasFileCaps(bin) {
		w = append(w, "this user is not root, the kernelspec does not use sudo and the binary has no file capabilities: "+
			"probes will not load (use --sudo, or setcap cap_bpf,cap_perfmon,cap_sys_admin+ep "+bin+")")
	}
	return w
}

// hasFileCaps reports whether bin carries file capabilities (setcap).
func hasFileCaps(bin string) bool {
	n, err := unix.Getxattr(bin, "security.capability", nil)
	return err == nil && n > 0
}

// Uninstall removes the kernelspec directory o points at and returns it.
func Uninstall(o Options) (string, error) {
	name, err := CheckName(o.Name)
	if err != nil {
		return "", err
	}
	kernels, err := KernelsDir(o)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(kernels, name)
	if _, err := os.Stat(filepath.Join(dir, "kernel.json")); err != nil {
		return dir, fmt.Errorf("no kernelspec %q in %s", name, kernels)
	}
	return dir, os.RemoveAll(dir)
}
