package configfile_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/ratewarden/ratewarden/core/config"
	"github.com/ratewarden/ratewarden/core/configfile"
)

// writeConfig writes a ratewarden.toml into a fresh temporary directory and returns its
// path.
func writeConfig(toml string) string {
	dir, err := os.MkdirTemp("", "ratewarden-example")
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, "ratewarden.toml")
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		log.Fatal(err)
	}
	return path
}

// Read a file and the environment: RATELIMIT_* variables override the file's keys, and an
// endpoint is addressed by its name. An application calls configfile.Load(path), which
// reads the process environment; Source makes the environment explicit.
func ExampleSource_Load() {
	path := writeConfig(`
algorithm = "sliding_window"

[default]
limit = 100
window = "1m"

[[endpoints]]
name = "compute"
pattern = "/api/v1/compute"
limit = 10
window = "1m"
`)
	defer os.RemoveAll(filepath.Dir(path))

	cfg, err := configfile.Source{
		Path:    path,
		Environ: []string{"RATELIMIT_DEFAULT_LIMIT=200", "RATELIMIT_ENDPOINTS_COMPUTE_LIMIT=20"},
	}.Load()
	if err != nil {
		fmt.Println(err) // every problem, one "key: message" line each
		return
	}
	fmt.Println(cfg.Algorithm, cfg.Backend, cfg.Default.Limit, cfg.Default.Window)
	fmt.Println(cfg.Endpoints[0].Name, cfg.Endpoints[0].Limit, cfg.Endpoints[0].Window)
	// Output:
	// sliding_window memory 200 1m0s
	// compute 20 1m0s
}

// Every problem of a configuration, in the file and in the environment, is reported at
// once as a *config.ValidationError, each naming its key and the bad value: print them and
// exit before serving. (configfile.Load(path) does the same with the process environment.)
func ExampleSource_Load_validationError() {
	path := writeConfig(`
key-prefix = "api"

[default]
limit = -5
window = "1m"
`)
	defer os.RemoveAll(filepath.Dir(path))

	_, err := configfile.Source{Path: path, Environ: []string{"RATELIMIT_FAIL_MODE=sometimes"}}.Load()
	var verr *config.ValidationError
	if errors.As(err, &verr) {
		for _, p := range verr.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// fail_mode: must be "open", "closed" or "local", got "sometimes" (from RATELIMIT_FAIL_MODE)
	// default.limit: must be ≥ 1, got -5
	// key-prefix: unknown key (did you mean "key_prefix"?)
}
