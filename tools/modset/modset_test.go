package modset_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/semver"

	"github.com/ratewarden/ratewarden/tools/modset"
)

func loadRepo(t *testing.T) *modset.Set {
	t.Helper()
	root, err := modset.FindRoot(".")
	require.NoError(t, err)
	s, err := modset.Load(root)
	require.NoError(t, err)
	return s
}

// Every require of a sibling names the set's version (never the placeholder no proxy
// serves), comes with a replace to the sibling's directory for development — except in a
// command module, which must have no replace at all for `go install …@version` — and no
// released module depends on one that is not released.
func TestSiblingRequiresUseTheSetVersion(t *testing.T) {
	s := loadRepo(t)
	require.NotEmpty(t, s.Published())
	for _, m := range s.Modules {
		replaced := map[string]string{}
		for _, r := range m.File.Replace {
			replaced[r.Old.Path] = r.New.Path
		}
		if m.Command() {
			assert.Emptyf(t, replaced, "%s: a command module has no replace: go install %s@%s refuses it", m.Dir, m.Path, s.Version)
		}
		for _, r := range m.File.Require {
			if !strings.HasPrefix(r.Mod.Path, modset.PathPrefix+"/") {
				continue
			}
			sib, ok := s.Sibling(r.Mod.Path)
			if !assert.Truef(t, ok, "%s requires %s, which is not in go.work", m.Dir, r.Mod.Path) {
				continue
			}
			assert.Truef(t, sib.Published, "%s requires %s, which is not released (versions.txt)", m.Dir, sib.Dir)
			assert.Equalf(t, s.Version, r.Mod.Version, "%s: require %s (run `make release VERSION=%s`)", m.Dir, r.Mod.Path, s.Version)
			if m.Command() {
				continue
			}
			rel, err := filepath.Rel(filepath.Join(s.Root, m.Dir), filepath.Join(s.Root, sib.Dir))
			require.NoError(t, err)
			assert.Equalf(t, filepath.ToSlash(rel), replaced[r.Mod.Path], "%s: replace %s => ../%s for development", m.Dir, r.Mod.Path, sib.Dir)
		}
	}
}

// One Go version: every go.mod has go.work's go line, the README and docs/versioning.md state
// it, and no module's dependencies need a newer one.
func TestOneGoVersion(t *testing.T) {
	s := loadRepo(t)
	require.NotEmpty(t, s.GoVersion, "go.work has no go line")
	for _, m := range s.Modules {
		require.NotNilf(t, m.File.Go, "%s/go.mod has no go line", m.Dir)
		assert.Equalf(t, s.GoVersion, m.File.Go.Version, "%s/go.mod: go line differs from go.work's", m.Dir)
		assert.Nilf(t, m.File.Toolchain, "%s/go.mod: a toolchain line would make users download another Go", m.Dir)
	}
	minor := strings.Join(strings.Split(s.GoVersion, ".")[:2], ".") // 1.26.0 → 1.26
	for doc, want := range map[string]string{
		"README.md":          "Go " + minor + " or later",
		"docs/versioning.md": "say `go " + s.GoVersion + "`",
	} {
		text, err := os.ReadFile(filepath.Join(s.Root, filepath.FromSlash(doc)))
		require.NoError(t, err)
		assert.Truef(t, strings.Contains(string(text), want), "%s does not state %q", doc, want)
	}

	for _, m := range s.Modules {
		t.Run(m.Dir, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command("go", "list", "-m", "-f", "{{.Path}} {{.GoVersion}}", "all")
			cmd.Dir = filepath.Join(s.Root, m.Dir)
			cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
			if m.Command() { // no replace: only the workspace resolves its unreleased siblings
				cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(s.Root, "go.work"))
			}
			out, err := cmd.Output()
			require.NoError(t, err, "go list -m all in %s: %s", m.Dir, exitStderr(err))
			for line := range strings.Lines(string(out)) {
				path, v, _ := strings.Cut(strings.TrimSpace(line), " ")
				if v != "" {
					assert.LessOrEqualf(t, semver.Compare("v"+v, "v"+s.GoVersion), 0,
						"%s needs go %s through %s, more than the set's %s", m.Dir, v, path, s.GoVersion)
				}
			}
		})
	}
}

// docs/versioning.md's table of released modules names exactly the modules of versions.txt:
// a module added to the set, moved or dropped from it shows up here.
func TestVersioningDocListsTheSet(t *testing.T) {
	s := loadRepo(t)
	data, err := os.ReadFile(filepath.Join(s.Root, "docs", "versioning.md"))
	require.NoError(t, err)
	var listed []string
	for line := range strings.Lines(string(data)) {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		fields := strings.Split(line, "`")
		for i := 1; i < len(fields); i += 2 { // the code spans
			if strings.HasPrefix(fields[i], modset.PathPrefix) {
				listed = append(listed, fields[i])
			}
		}
	}
	var want []string
	for _, m := range s.Published() {
		want = append(want, m.Path)
	}
	assert.ElementsMatch(t, want, listed, "docs/versioning.md's table of modules against versions.txt")
}

func exitStderr(err error) string {
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

func TestSetVersionRewritesEverySiblingRequire(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		path := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	}
	write("go.work", "go 1.26.0\n\nuse (\n\t./core\n\t./adapters/ginlimit\n\t./examples\n)\n")
	write("versions.txt", "# the set\nversion v0.2.0\n\ncore\nadapters/ginlimit\n")
	write("core/go.mod", "module github.com/ratewarden/ratewarden/core\n\ngo 1.26.0\n\nrequire golang.org/x/time v0.15.0\n")
	write("adapters/ginlimit/go.mod", `module github.com/ratewarden/ratewarden/adapters/ginlimit

go 1.26.0

require (
	github.com/gin-gonic/gin v1.12.0
	github.com/ratewarden/ratewarden/core v0.0.0-00010101000000-000000000000
)

replace github.com/ratewarden/ratewarden/core => ../../core
`)
	write("examples/go.mod", `module github.com/ratewarden/ratewarden/examples

go 1.26.0

require (
	github.com/ratewarden/ratewarden/adapters/ginlimit v0.2.0
	github.com/ratewarden/ratewarden/core v0.2.0
)

replace (
	github.com/ratewarden/ratewarden/adapters/ginlimit => ../adapters/ginlimit
	github.com/ratewarden/ratewarden/core => ../core
)
`)
	write("README.md", "```sh\ngo get github.com/ratewarden/ratewarden/adapters/ginlimit@v0.2.0\ngo install github.com/ratewarden/ratewarden/cmd/ratewarden@v0.2.0\ngo get example.com/other@v0.2.0\n```\n")
	s, err := modset.Load(root)
	require.NoError(t, err)
	assert.Equal(t, []string{"core/v0.2.0", "adapters/ginlimit/v0.2.0"}, s.Tags(s.Version))

	_, err = s.SetVersion("0.3")
	require.ErrorContains(t, err, `version "0.3"`)

	changed, err := s.SetVersion("v0.3.0")
	require.NoError(t, err)
	assert.Equal(t, []string{"adapters/ginlimit/go.mod", "examples/go.mod", "versions.txt", "README.md"}, changed)

	again, err := modset.Load(root)
	require.NoError(t, err)
	assert.Equal(t, "v0.3.0", again.Version)
	assert.Equal(t, []string{"core/v0.3.0", "adapters/ginlimit/v0.3.0"}, again.Tags(again.Version))
	for _, m := range again.Modules {
		for _, r := range m.File.Require {
			if strings.HasPrefix(r.Mod.Path, modset.PathPrefix) {
				assert.Equal(t, "v0.3.0", r.Mod.Version, "%s requires %s", m.Dir, r.Mod.Path)
			} else {
				assert.NotEqual(t, "v0.3.0", r.Mod.Version, "%s: a third-party require moved", m.Dir)
			}
		}
	}
	gin, err := os.ReadFile(filepath.Join(root, "adapters/ginlimit/go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(gin), "replace github.com/ratewarden/ratewarden/core => ../../core", "replace lines stay")
	versions, err := os.ReadFile(filepath.Join(root, "versions.txt"))
	require.NoError(t, err)
	assert.Equal(t, "# the set\nversion v0.3.0\n\ncore\nadapters/ginlimit\n", string(versions))
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	assert.Equal(t, "```sh\ngo get github.com/ratewarden/ratewarden/adapters/ginlimit@v0.3.0\ngo install github.com/ratewarden/ratewarden/cmd/ratewarden@v0.3.0\ngo get example.com/other@v0.2.0\n```\n", string(readme))
}

func TestLoadRejectsAReleasedModuleOutsideTheWorkspace(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.work"), []byte("go 1.26.0\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "versions.txt"), []byte("version v0.2.0\ncore\n"), 0o644))
	_, err := modset.Load(root)
	require.ErrorContains(t, err, "versions.txt lists core, which go.work does not use")
}
