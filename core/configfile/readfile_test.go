//go:build unix

package configfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core/config"
)

// A multi-line string closed by a run of four or five quotes ends at the last three (an
// attack review hid 500,000 levels behind ”'x”” from a guard that stopped at the first
// three, and go-toml then spent 10 s and 830 MB on them).
func TestBracketDepthSeesPastStringsClosedByLongQuoteRuns(t *testing.T) {
	t.Parallel()
	for _, q := range []string{`'''x''''`, `'''x'''''`, `"""x"""""`, `"""x\""""`} {
		hidden := "a = [ " + q + " , " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + " ]\n"
		assert.Greater(t, bracketDepth([]byte(hidden)), maxConfigDepth, "%s", q)
	}
	assert.Equal(t, 1, bracketDepth([]byte(`a = [ '''[[[[''' ]`)), "brackets inside the string")
}

// The file is opened without blocking and read to the size bound at most: a symbolic link
// to /dev/zero (which ran a process out of memory) or a FIFO in the file's place (which
// blocked Load and the watch forever) is refused at once.
func TestLoadRefusesFilesThatAreNotRegular(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero.toml")
	require.NoError(t, os.Symlink("/dev/zero", zero))
	_, err := Source{Path: zero, Environ: []string{}}.Load()
	require.ErrorContains(t, err, "not a regular file")

	fifo := filepath.Join(dir, "fifo.toml")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	_, err = Source{Path: fifo, Environ: []string{}}.Load()
	require.ErrorContains(t, err, "not a regular file")

	_, err = Source{Path: dir, Environ: []string{}}.Load()
	require.ErrorContains(t, err, "not a regular file")
}

// Problems carry the bad value as written, and never a secret's (an attack review found a
// numeric redis.password quoted in the problem that reaches stderr and the 422 body).
func TestProblemValuesAndSecrets(t *testing.T) {
	t.Parallel()
	_, err := Source{Path: writeTOML(t, "admin.token = 4242424242\n[redis]\npassword = 8675309123\n[default]\nlimit = \"abc\"\ncost = 0\nwindow = \"1m\"\n[memory]\nmax_keys = 0\n"), Environ: []string{}}.Load()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "8675309123")
	assert.NotContains(t, err.Error(), "4242424242")
	var ve *config.ValidationError
	require.ErrorAs(t, err, &ve)
	values := map[string]string{}
	for _, p := range ve.Problems {
		values[p.Key] = p.Value
	}
	assert.Equal(t, map[string]string{
		"admin.token": "", "redis.password": "", "default.limit": "abc", "default.cost": "0", "memory.max_keys": "0",
	}, values, "%v", ve.Problems)
}
