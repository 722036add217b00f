package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// runMainEnv makes the test binary run the command's main instead of the tests, so that
// the process tests run the real program without building it.
const runMainEnv = "RATEWARDEN_CLI_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// result is what one run of the command did.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command in-process with args and the environment environ.
func runCLI(t *testing.T, environ []string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, environ, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// runProcess runs the command as a process (this test binary, see TestMain) in dir,
// with environ added to a minimal environment.
func runProcess(t *testing.T, dir string, environ []string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append([]string{runMainEnv + "=1", "PATH=" + os.Getenv("PATH")}, environ...)
	if dir := os.Getenv("GOCOVERDIR"); dir != "" {
		// Under -cover (make cover) the binary writes its coverage there; without it the
		// process would warn on stderr, which the tests compare.
		cmd.Env = append(cmd.Env, "GOCOVERDIR="+dir)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// writeConfig writes a configuration file into a temporary directory and returns its path.
func writeConfig(t *testing.T, toml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ratewarden.toml")
	require.NoError(t, os.WriteFile(path, []byte(toml), 0o600))
	return path
}
