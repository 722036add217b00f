package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/tools/modset"
)

const doc = "# A page\n" + // line 1
	"\n" +
	"<!-- go fragment\n" + // 3
	"import \"github.com/ratewarden/ratewarden/core/config\"\n" +
	"var cfg config.Config\n" + // 5
	"-->\n" +
	"```go\n" + // 7
	"import \"fmt\"\n" + // 8
	"\n" +
	"fmt.Println(cfg.Validate())\n" + // 10
	"```\n" +
	"\n" +
	"```toml\n" + // 13
	"[default]\n" + // 14
	"limit = 5\n" +
	"```\n" +
	"\n" +
	"```go\n" + // 18
	"package main\n" + // 19
	"\n" +
	"func main() {}\n" +
	"```\n"

func TestExtract(t *testing.T) {
	blocks, err := Extract("page.md", doc)
	require.NoError(t, err)
	require.Len(t, blocks, 3)

	assert.Equal(t, Block{File: "page.md", Line: 8, Lang: "go", Fragment: true, CtxLine: 4,
		Context: "import \"github.com/ratewarden/ratewarden/core/config\"\nvar cfg config.Config",
		Code:    "import \"fmt\"\n\nfmt.Println(cfg.Validate())\n"}, blocks[0])
	assert.Equal(t, Block{File: "page.md", Line: 14, Lang: "toml", Code: "[default]\nlimit = 5\n"}, blocks[1])
	assert.Equal(t, Block{File: "page.md", Line: 19, Lang: "go", Code: "package main\n\nfunc main() {}\n"}, blocks[2])

	src, err := blocks[0].Source("/abs/page.md")
	require.NoError(t, err)
	assert.Equal(t, "package snippet\n\n"+
		"//line /abs/page.md:4\nimport \"github.com/ratewarden/ratewarden/core/config\"\n"+
		"//line /abs/page.md:8\nimport \"fmt\"\n\n"+
		"//line /abs/page.md:5\nvar cfg config.Config\n"+
		"func _() {\n//line /abs/page.md:10\nfmt.Println(cfg.Validate())\n}\n", src)
}

func TestExtractRejects(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"marker far from its block", "<!-- go fragment -->\ntext\n```go\nx := 1\n```\n", "page.md:1: a go fragment comment must come right before its ```go block"},
		{"marker before toml", "<!-- go fragment -->\n```toml\n```\n", "page.md:2: a go fragment comment before a toml block"},
		{"marker at the end", "<!-- go fragment -->\n", "a go fragment comment with no ```go block after it"},
		{"unclosed block", "```go\nx := 1\n", "page.md:1: code block never closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Extract("page.md", tt.text)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// A page of good blocks passes; a broken snippet, a go block that is neither a file nor
// marked, and a TOML block the loader rejects each fail, named by their Markdown line.
func TestCheck(t *testing.T) {
	root, err := modset.FindRoot(".")
	require.NoError(t, err)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.md")
	require.NoError(t, os.WriteFile(good, []byte(doc), 0o644))

	report, err := Check(root, []string{good})
	require.NoError(t, err)
	assert.Contains(t, report, "2 go (1 fragments), 1 toml")
	assert.Contains(t, report, "ok: 2 go blocks build")

	bad := filepath.Join(dir, "bad.md")
	require.NoError(t, os.WriteFile(bad, []byte("# Bad\n"+ // 1
		"<!-- go fragment\n"+
		"import (\"github.com/ratewarden/ratewarden/core\"; \"github.com/ratewarden/ratewarden/core/config\")\n"+
		"-->\n"+
		"```go\n"+ // 5
		"lim, err := core.New(config.Config{})\n"+ // 6
		"if err != nil { panic(err) }\n"+
		"```\n"+
		"```go\n"+ // 9
		"x := 1\n"+ // 10
		"```\n"+
		"```toml\n"+ // 12
		"[default]\n"+ // 13
		"limt = 5\n"+
		"```\n"+
		"<!-- go fragment -->\n"+
		"```go\n"+ // 17
		"r.Route(\"/admin\", func() { … })\n"+ // 18
		"```\n"), 0o644))
	_, err = Check(root, []string{good, bad})
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, bad+":10: a go block without a package clause")
	assert.Contains(t, msg, bad+":13: toml block does not load")
	assert.Contains(t, msg, `default.limt: unknown key`)
	assert.Contains(t, msg, bad+":6: declared and not used: lim", "the compiler's error points at the snippet's line")
	assert.Contains(t, msg, bad+":18: illegal character U+2026 '…'")
	assert.NotContains(t, msg, good, "the good page has no problem")
}
