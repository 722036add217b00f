// Package consumertest installs the module set the way a user does: its test serves the
// released modules of the working tree from a file:// module proxy, at the set's version,
// and builds and runs one small program per adapter in a module of its own, outside the
// repository, with no go.work and no replace (see consumer_test.go).
package consumertest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"

	"github.com/ratewarden/ratewarden/tools/modset"
)

// WriteProxy lays out, under dir, a module proxy (GOPROXY=file://dir) that serves every
// released module of s at s.Version: @v/list, .info, .mod (the go.mod as committed, replace
// lines included, as a tag would publish it) and .zip (golang.org/x/mod/zip, the format
// the go command verifies). It returns the module versions written.
func WriteProxy(s *modset.Set, dir string) ([]module.Version, error) {
	var out []module.Version
	for _, m := range s.Published() {
		mv := module.Version{Path: m.Path, Version: s.Version}
		esc, err := module.EscapePath(m.Path)
		if err != nil {
			return nil, err
		}
		base := filepath.Join(dir, filepath.FromSlash(esc), "@v")
		if err := os.MkdirAll(base, 0o755); err != nil {
			return nil, err
		}
		info, err := json.Marshal(struct{ Version, Time string }{s.Version, time.Now().UTC().Format(time.RFC3339)})
		if err != nil {
			return nil, err
		}
		gomod, err := os.ReadFile(m.GoModPath(s.Root))
		if err != nil {
			return nil, err
		}
		files := map[string][]byte{"list": []byte(s.Version + "\n"), s.Version + ".info": info, s.Version + ".mod": gomod}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(base, name), data, 0o644); err != nil {
				return nil, err
			}
		}
		f, err := os.Create(filepath.Join(base, s.Version+".zip"))
		if err != nil {
			return nil, err
		}
		err = zip.CreateFromDir(f, mv, filepath.Join(s.Root, filepath.FromSlash(m.Dir)))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		out = append(out, mv)
	}
	return out, nil
}
