// Command docscheck proves that the code in the documentation works: every ```go block of
// the Markdown files given builds against the workspace, and every ```toml block loads with
// core's configuration loader.
//
//	go run ./tools/docscheck README.md docs/*.md   (make docs-check)
//
// A go block that starts with a package clause is a whole file. Any other go block must be
// marked as a fragment by an HTML comment right before it (GitHub does not render it):
//
//	<!-- go fragment -->
//
// The checker puts a fragment's leading import declarations at the top of a file and the
// rest into the body of a function. The comment may carry, on the lines after "go
// fragment", Go declarations the fragment assumes (imports first, then variables, types or
// functions), so that a fragment can use a cfg or a handler it does not show:
//
//	<!-- go fragment
//	import "github.com/gin-gonic/gin"
//	var cfg config.Config
//	func compute(*gin.Context) {}
//	-->
//
// Each block becomes a package of a temporary module inside a temporary go.work that uses
// every module of the repository's go.work; `go vet` type-checks them all. Errors name the
// Markdown file and line (through //line directives). A TOML block is loaded as a file with
// an empty environment and must validate.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ratewarden/ratewarden/core/configfile"
	"github.com/ratewarden/ratewarden/tools/modset"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: docscheck FILE.md...")
		os.Exit(2)
	}
	root, err := modset.FindRoot(".")
	if err == nil {
		var report string
		report, err = Check(root, os.Args[1:])
		fmt.Print(report)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "docscheck:", err)
		os.Exit(1)
	}
}

// Block is one fenced code block of a Markdown file.
type Block struct {
	File     string // the Markdown file
	Line     int    // line of the first line of code (after the opening fence)
	Lang     string // first word of the info string: "go", "toml", …
	Code     string
	Fragment bool   // preceded by a <!-- go fragment --> comment
	Context  string // the declarations the comment carries
	CtxLine  int    // line of the first of them
}

// Extract returns the fenced code blocks of a Markdown file's text.
func Extract(file, text string) ([]Block, error) {
	var (
		blocks  []Block
		lines   = strings.Split(text, "\n")
		marker  *Block // a fragment comment seen, waiting for its block
		comment []string
		inside  bool // within a fragment comment
	)
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		switch {
		case inside:
			if strings.HasPrefix(trimmed, "-->") {
				marker.Context, inside = strings.Join(comment, "\n"), false
			} else {
				comment = append(comment, line)
			}
		case strings.HasPrefix(trimmed, "<!-- go fragment"):
			marker = &Block{Fragment: true, CtxLine: i + 2}
			rest := strings.TrimSpace(strings.TrimPrefix(trimmed, "<!-- go fragment"))
			switch rest {
			case "-->":
			case "":
				inside, comment = true, nil
			default:
				return nil, fmt.Errorf("%s:%d: write a fragment's declarations on the lines after \"<!-- go fragment\"", file, i+1)
			}
		case strings.HasPrefix(line, "```") && len(strings.TrimLeft(line, "`")) > 0:
			b := Block{File: file, Line: i + 2, Lang: strings.Fields(strings.TrimLeft(line, "`"))[0]}
			if marker != nil {
				b.Fragment, b.Context, b.CtxLine = true, marker.Context, marker.CtxLine
				marker = nil
			}
			var code []string
			for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
				code = append(code, lines[i])
			}
			if i == len(lines) {
				return nil, fmt.Errorf("%s:%d: code block never closed", file, b.Line-1)
			}
			b.Code = strings.Join(code, "\n") + "\n"
			if b.Fragment && b.Lang != "go" {
				return nil, fmt.Errorf("%s:%d: a go fragment comment before a %s block", file, b.Line-1, b.Lang)
			}
			blocks = append(blocks, b)
		case trimmed != "" && marker != nil:
			return nil, fmt.Errorf("%s:%d: a go fragment comment must come right before its ```go block", file, marker.CtxLine-1)
		}
	}
	if inside || marker != nil {
		return nil, fmt.Errorf("%s: a go fragment comment with no ```go block after it", file)
	}
	return blocks, nil
}

// Source returns the Go file a go block is checked as; position directives map every line
// back to the Markdown file, named by its absolute path abs.
func (b Block) Source(abs string) (string, error) {
	if !b.Fragment {
		if !startsWithPackage(b.Code) {
			return "", fmt.Errorf("%s:%d: a go block without a package clause: mark it <!-- go fragment --> or make it a whole file", b.File, b.Line)
		}
		return fmt.Sprintf("//line %s:%d\n%s", abs, b.Line, b.Code), nil
	}
	if startsWithPackage(b.Code) {
		return "", fmt.Errorf("%s:%d: a go fragment with a package clause: drop the marker", b.File, b.Line)
	}
	ctxImports, ctxDecls, ctxDeclLine := splitImports(b.Context, b.CtxLine)
	imports, body, bodyLine := splitImports(b.Code, b.Line)
	var src strings.Builder
	src.WriteString("package snippet\n\n")
	fmt.Fprintf(&src, "//line %s:%d\n%s", abs, b.CtxLine, ctxImports)
	fmt.Fprintf(&src, "//line %s:%d\n%s", abs, b.Line, imports)
	fmt.Fprintf(&src, "//line %s:%d\n%s\n", abs, ctxDeclLine, ctxDecls)
	fmt.Fprintf(&src, "func _() {\n//line %s:%d\n%s}\n", abs, bodyLine, body)
	return src.String(), nil
}

// startsWithPackage reports whether code's first line that is not blank or a comment is a
// package clause.
func startsWithPackage(code string) bool {
	for line := range strings.Lines(code) {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "//") {
			return strings.HasPrefix(t, "package ")
		}
	}
	return false
}

// splitImports splits code, whose first line is line first, into its leading import
// declarations (with the blank and comment lines among them) and the rest, which starts at
// the line returned.
func splitImports(code string, first int) (imports, rest string, restLine int) {
	lines := strings.SplitAfter(code, "\n")
	n, inBlock := 0, false
	for ; n < len(lines); n++ {
		t := strings.TrimSpace(lines[n])
		switch {
		case inBlock:
			inBlock = !strings.HasPrefix(t, ")")
		case strings.HasPrefix(t, "import ("):
			inBlock = true
		case strings.HasPrefix(t, "import "), t == "", strings.HasPrefix(t, "//"):
		default:
			return strings.Join(lines[:n], ""), strings.Join(lines[n:], ""), first + n
		}
	}
	return code, "", first + n
}

// Check checks the blocks of the Markdown files (paths relative to root or absolute) and
// returns a line per file with its counts. The error lists every failure.
func Check(root string, files []string) (string, error) {
	var (
		report   strings.Builder
		problems []string
		goBlocks []Block
		absOf    = map[string]string{}
	)
	for _, f := range files {
		abs := f
		if !filepath.IsAbs(f) {
			abs = filepath.Join(root, f)
		}
		data, err := os.ReadFile(abs)
		if err != nil {
			return "", err
		}
		blocks, err := Extract(f, string(data))
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		absOf[f] = abs
		var nGo, nFrag, nTOML int
		for _, b := range blocks {
			switch b.Lang {
			case "go":
				goBlocks = append(goBlocks, b)
				nGo++
				if b.Fragment {
					nFrag++
				}
			case "toml":
				nTOML++
				if err := loadTOML(b); err != nil {
					problems = append(problems, err.Error())
				}
			}
		}
		fmt.Fprintf(&report, "%-28s %d go (%d fragments), %d toml\n", f, nGo, nFrag, nTOML)
	}
	if len(goBlocks) > 0 {
		if err := buildAll(root, goBlocks, absOf); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return report.String(), errors.New("the documentation's code does not work:\n" + strings.Join(problems, "\n"))
	}
	fmt.Fprintf(&report, "ok: %d go blocks build, every toml block loads\n", len(goBlocks))
	return report.String(), nil
}

// loadTOML loads a toml block with core's loader, without the process environment.
func loadTOML(b Block) error {
	f, err := os.CreateTemp("", "docscheck-*.toml")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(b.Code); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if _, err := (configfile.Source{Path: f.Name(), Environ: []string{}}).Load(); err != nil {
		msg := strings.ReplaceAll(err.Error(), f.Name(), "the block")
		return fmt.Errorf("%s:%d: toml block does not load: %s", b.File, b.Line, msg)
	}
	return nil
}

// buildAll writes each go block as a package of a temporary module and type-checks them
// all with go vet, in a go.work that adds the module to the repository's modules.
func buildAll(root string, blocks []Block, absOf map[string]string) error {
	set, err := modset.Load(root)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "docscheck")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	work := fmt.Sprintf("go %s\n\nuse (\n\t.\n", set.GoVersion)
	for _, m := range set.Modules {
		work += fmt.Sprintf("\t%s\n", filepath.Join(root, m.Dir))
	}
	work += ")\n"
	files := map[string]string{
		"go.mod":  fmt.Sprintf("module docsnippets\n\ngo %s\n", set.GoVersion),
		"go.work": work,
	}
	var problems []string
	for i, b := range blocks {
		src, err := b.Source(absOf[b.File])
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		files[fmt.Sprintf("b%03d/snippet.go", i)] = src
	}
	if len(files) == 2 { // go.mod and go.work: no block to build
		return errors.New(strings.Join(problems, "\n"))
	}
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return err
		}
	}
	cmd := exec.Command("go", "vet", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(dir, "go.work"), "GOFLAGS=-mod=readonly")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		for line := range strings.Lines(out.String()) {
			if !strings.HasPrefix(line, "# docsnippets/") { // the package header names a temp dir
				problems = append(problems, markdownPath(root, dir, strings.TrimPrefix(strings.TrimRight(line, "\n"), "vet: ")))
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// markdownPath rewrites the file name that starts a line of go vet's output, which the go
// command shortens relative to the build directory dir, back to the Markdown file's name:
// relative to root when it is in the repository, else absolute.
func markdownPath(root, dir, line string) string {
	name, rest, ok := strings.Cut(line, ".md:")
	if !ok {
		return line
	}
	path := name + ".md"
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	if rel, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(rel, "..") {
		path = rel
	}
	return path + ":" + rest
}
