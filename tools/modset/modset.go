// Package modset reads the ratewarden module set: the modules of the committed go.work, the
// one version the released ones share (versions.txt), and their go.mod files. The release
// tool, the consumer test and the checks of `make test` all read the repository through it.
package modset

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// PathPrefix is the module path of the repository root; a module's path is PathPrefix, a
// slash and its directory.
const PathPrefix = "github.com/ratewarden/ratewarden"

// VersionsFile is the file, at the repository root, that names the set's version and the
// modules released at it.
const VersionsFile = "versions.txt"

// Module is one module of the workspace.
type Module struct {
	Dir       string        // relative to the repository root, slash-separated ("adapters/ginlimit")
	Path      string        // module path
	Published bool          // released at the set's version (listed in versions.txt)
	File      *modfile.File // its parsed go.mod
}

// GoModPath returns the path of the module's go.mod under root.
func (m Module) GoModPath(root string) string {
	return filepath.Join(root, filepath.FromSlash(m.Dir), "go.mod")
}

// CommandDir is the directory of the command modules: programs installed with `go
// install <module>@<version>`, which refuses a module whose go.mod has replace lines. A
// command module's go.mod therefore has none; the go.work builds it against its siblings
// in development, and scripts/tidy-command.sh tidies it.
const CommandDir = "cmd/"

// Command reports whether m is a command module (see [CommandDir]).
func (m Module) Command() bool { return strings.HasPrefix(m.Dir, CommandDir) }

// Tag returns the git tag of the module at version v: its directory, a slash and v.
func (m Module) Tag(v string) string { return m.Dir + "/" + v }

// Set is the repository's module set.
type Set struct {
	Root      string   // absolute repository root
	Version   string   // the version every published module is released at
	GoVersion string   // the go line of go.work
	Modules   []Module // every module of go.work, in its order
}

// Load reads the set of the repository at root: go.work, versions.txt and every go.mod.
func Load(root string) (*Set, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	work, err := readWork(root)
	if err != nil {
		return nil, err
	}
	version, published, err := readVersions(filepath.Join(root, VersionsFile))
	if err != nil {
		return nil, err
	}
	s := &Set{Root: root, Version: version}
	if work.Go != nil {
		s.GoVersion = work.Go.Version
	}
	for _, u := range work.Use {
		dir := strings.TrimPrefix(filepath.ToSlash(filepath.Clean(u.Path)), "./")
		m := Module{Dir: dir, Path: PathPrefix + "/" + dir, Published: published[dir]}
		if m.File, err = readMod(m.GoModPath(root)); err != nil {
			return nil, err
		}
		if got := m.File.Module.Mod.Path; got != m.Path {
			return nil, fmt.Errorf("%s: module path %s, want %s", m.GoModPath(root), got, m.Path)
		}
		delete(published, dir)
		s.Modules = append(s.Modules, m)
	}
	if len(published) > 0 {
		return nil, fmt.Errorf("%s lists %s, which go.work does not use", VersionsFile, strings.Join(slices.Sorted(maps.Keys(published)), ", "))
	}
	return s, nil
}

// Published returns the modules released at the set's version.
func (s *Set) Published() []Module {
	var out []Module
	for _, m := range s.Modules {
		if m.Published {
			out = append(out, m)
		}
	}
	return out
}

// Sibling returns the module of the set whose path is path.
func (s *Set) Sibling(path string) (Module, bool) {
	for _, m := range s.Modules {
		if m.Path == path {
			return m, true
		}
	}
	return Module{}, false
}

// Tags returns the tags a release of the set at version v creates, one per published module.
func (s *Set) Tags(v string) []string {
	var tags []string
	for _, m := range s.Published() {
		tags = append(tags, m.Tag(v))
	}
	return tags
}

// SetVersion makes v the set's version: it rewrites versions.txt and, in every go.mod of the
// workspace, each require of a published sibling. The replace lines are left as they are.
// It returns the files it changed, relative to the root.
func (s *Set) SetVersion(v string) (changed []string, err error) {
	if !semver.IsValid(v) || semver.Canonical(v) != v || semver.Major(v) != "v0" && semver.Major(v) != "v1" {
		return nil, fmt.Errorf("version %q: want a canonical v0 or v1 semantic version such as v0.3.0", v)
	}
	for _, m := range s.Modules {
		stale := false
		for _, r := range m.File.Require {
			if sib, ok := s.Sibling(r.Mod.Path); ok && sib.Published && r.Mod.Version != v {
				if err := m.File.AddRequire(r.Mod.Path, v); err != nil {
					return nil, err
				}
				stale = true
			}
		}
		if !stale {
			continue
		}
		m.File.Cleanup()
		data, err := m.File.Format()
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(m.GoModPath(s.Root), data, 0o644); err != nil {
			return nil, err
		}
		changed = append(changed, m.Dir+"/go.mod")
	}
	if v == s.Version {
		return changed, nil
	}
	path := filepath.Join(s.Root, VersionsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	data = bytes.Replace(data, []byte("version "+s.Version+"\n"), []byte("version "+v+"\n"), 1)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return nil, err
	}
	changed = append(changed, VersionsFile)
	if ok, err := s.rewriteInstallLines(v); err != nil {
		return nil, err
	} else if ok {
		changed = append(changed, "README.md")
	}
	s.Version = v
	return changed, nil
}

// rewriteInstallLines moves the README's `go get …ratewarden/…@version` and `go install
// …@version` lines to v.
func (s *Set) rewriteInstallLines(v string) (bool, error) {
	path := filepath.Join(s.Root, "README.md")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	lines := strings.SplitAfter(string(data), "\n")
	for i, line := range lines {
		if (strings.HasPrefix(line, "go get ") || strings.HasPrefix(line, "go install ")) && strings.Contains(line, PathPrefix+"/") {
			lines[i] = strings.ReplaceAll(line, "@"+s.Version, "@"+v)
		}
	}
	out := strings.Join(lines, "")
	if out == string(data) {
		return false, nil
	}
	return true, os.WriteFile(path, []byte(out), 0o644)
}

func readWork(root string) (*modfile.WorkFile, error) {
	path := filepath.Join(root, "go.work")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return modfile.ParseWork(path, data, nil)
}

func readMod(path string) (*modfile.File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return modfile.Parse(path, data, nil)
}

// readVersions parses versions.txt: "#" comments, one "version vX.Y.Z" line, and one module
// directory a line.
func readVersions(path string) (version string, dirs map[string]bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	dirs = map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		switch v, ok := strings.CutPrefix(line, "version "); {
		case line == "":
		case ok:
			version = strings.TrimSpace(v)
		default:
			dirs[line] = true
		}
	}
	if !semver.IsValid(version) {
		return "", nil, fmt.Errorf("%s: no valid \"version vX.Y.Z\" line", path)
	}
	if len(dirs) == 0 {
		return "", nil, errors.New(path + ": no modules listed")
	}
	return version, dirs, nil
}

// FindRoot returns the repository root: the nearest directory at or above dir that holds
// go.work and versions.txt.
func FindRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		_, errWork := os.Stat(filepath.Join(dir, "go.work"))
		_, errVersions := os.Stat(filepath.Join(dir, VersionsFile))
		if errWork == nil && errVersions == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work with " + VersionsFile + " beside it at or above the working directory")
		}
		dir = parent
	}
}
