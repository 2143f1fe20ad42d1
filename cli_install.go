package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tracebook/tracebook/install"
)

const installUsage = `usage: tracebook --install   [--user | --sys-prefix | --prefix DIR] [--name N] [--display-name D] [--sudo]
       tracebook --uninstall [--user | --sys-prefix | --prefix DIR] [--name N]

Writes (or removes) the Jupyter kernelspec that runs this binary as a kernel.
Without a location flag: /usr/local/share/jupyter/kernels as root, the user's
Jupyter data directory otherwise.

  --user          $JUPYTER_DATA_DIR/kernels, or ${XDG_DATA_HOME:-~/.local/share}/jupyter/kernels
  --sys-prefix    the kernels directory of the Python environment running Jupyter
  --prefix DIR    DIR/share/jupyter/kernels
  --name N        kernelspec name (default tracebook): letters, digits, . _ -
  --display-name D  name shown in notebooks (default bpftrace)
  --sudo          start the kernel with "sudo -n", for users allowed to run
                  tracebook as root without a password
`

// installFlags parses the flags shared by --install and --uninstall.
func installFlags(args []string, stderr io.Writer) (install.Options, error) {
	var o install.Options
	fs := flag.NewFlagSet("tracebook --install", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		mode, user, sysPrefix, fake bool
		prefix                      string
	)
	// The mode flags themselves; dispatch already chose the mode.
	fs.BoolVar(&mode, "install", false, "")
	fs.BoolVar(&mode, "uninstall", false, "")
	fs.BoolVar(&user, "user", false, "")
	fs.BoolVar(&sysPrefix, "sys-prefix", false, "")
	fs.StringVar(&prefix, "prefix", "", "")
	fs.StringVar(&o.Name, "name", install.DefaultName, "")
	fs.StringVar(&o.DisplayName, "display-name", "", "")
	fs.BoolVar(&o.Sudo, "sudo", false, "")
	// Hidden: a kernelspec serving kerneltest's fake executor, for the
	// client test tier.
	fs.BoolVar(&fake, "fake-executor", false, "")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprint(stderr, installUsage)
			return o, err
		}
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	n := 0
	for _, set := range []bool{user, sysPrefix, prefix != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return o, fmt.Errorf("use only one of --user, --sys-prefix and --prefix")
	}
	switch {
	case user:
		o.Scope = install.User
	case sysPrefix:
		o.Scope = install.SysPrefix
	case prefix != "":
		o.Scope, o.Prefix = install.Prefix, prefix
	}
	if fake {
		o.ExtraArgs = append(o.ExtraArgs, "--fake-executor")
	}
	return o, nil
}

// runInstall writes the kernelspec.
func runInstall(args []string) int {
	o, err := installFlags(args, os.Stderr)
	if err != nil {
		return installError(err)
	}
	res, err := install.Install(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tracebook: %v\n", err)
		return 1
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(os.Stderr, "tracebook: warning: %s\n", w)
	}
	fmt.Printf("Installed kernelspec %s in %s\n", filepath.Base(res.Dir), res.Dir)
	return 0
}

// runUninstall removes it.
func runUninstall(args []string) int {
	o, err := installFlags(args, os.Stderr)
	if err != nil {
		return installError(err)
	}
	dir, err := install.Uninstall(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tracebook: %v\n", err)
		return 1
	}
	fmt.Printf("Removed kernelspec %s from %s\n", filepath.Base(dir), dir)
	return 0
}

func installError(err error) int {
	if err == flag.ErrHelp {
		return 0
	}
	fmt.Fprintf(os.Stderr, "tracebook: %v\n(tracebook --install -h for help)\n", err)
	return 2
}
