package lang

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected outputs in testdata/parse")

// TestParseFiles runs the cases in testdata/parse/*.txt: "=== name", an
// optional "[options]" line (cell, btf, params=a,b, defines=K:V,K2:V,
// pid=N), the source, "---", and the expected result: every error, then
// the program's parts one per line.
func TestParseFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/parse/*.txt")
	if len(files) == 0 {
		t.Fatal("no testdata/parse/*.txt")
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		cases := splitCases(string(data))
		var out strings.Builder
		out.WriteString(cases[0].header)
		for _, c := range cases[1:] {
			got := runCase(c)
			if !*update && got != c.want {
				t.Errorf("%s: %s:\n got:\n%s\n want:\n%s", file, c.name, got, c.want)
			}
			out.WriteString(c.header)
			out.WriteString(c.src)
			out.WriteString("---\n")
			out.WriteString(got)
			out.WriteString("\n\n")
		}
		if *update {
			if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

type fileCase struct {
	name, header, opts, src, want string
}

// splitCases splits a file into its preamble (cases[0].header) and cases.
func splitCases(data string) []fileCase {
	parts := strings.Split(data, "\n=== ")
	cases := []fileCase{{header: strings.TrimRight(parts[0], "\n") + "\n\n"}}
	for _, p := range parts[1:] {
		nl := strings.IndexByte(p, '\n')
		c := fileCase{name: p[:nl], header: "=== " + p[:nl+1]}
		body := p[nl+1:]
		if strings.HasPrefix(body, "[") {
			end := strings.IndexByte(body, '\n')
			c.opts = body[1 : end-1]
			c.header += body[:end+1]
			body = body[end+1:]
		}
		sep := strings.Index(body, "---\n")
		if sep < 0 {
			sep = len(body)
			body += "---\n"
		}
		c.src = body[:sep]
		c.want = strings.TrimRight(body[sep+4:], "\n")
		cases = append(cases, c)
	}
	return cases
}

func runCase(c fileCase) string {
	opts := &ParseOptions{}
	for _, o := range strings.Fields(c.opts) {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "cell":
			opts.Cell = true
		case "btf":
			opts.HaveBTF = true
		case "params":
			opts.Params = strings.Split(v, ",")
		case "pid":
			opts.PID, _ = strconv.Atoi(v)
		case "defines":
			opts.Defines = map[string]string{}
			for _, d := range strings.Split(v, ",") {
				name, val, _ := strings.Cut(d, ":")
				opts.Defines[name] = val
			}
		}
	}
	prog, errs := Parse("stdin", []byte(c.src), opts)
	var lines []string
	for _, e := range errs {
		lines = append(lines, e.Error())
	}
	if prog == nil {
		lines = append(lines, "(no program)")
		return strings.Join(lines, "\n")
	}
	for _, x := range prog.Includes {
		lines = append(lines, SExpr(x))
	}
	for _, x := range prog.Defines {
		lines = append(lines, SExpr(x))
	}
	for _, x := range prog.Structs {
		lines = append(lines, SExpr(x))
	}
	for _, x := range prog.Probes {
		lines = append(lines, SExpr(x))
	}
	for _, x := range prog.Stmts {
		lines = append(lines, SExpr(x))
	}
	return strings.Join(lines, "\n")
}
