package redistest

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStartMain(t *testing.T) {
	t.Parallel()
	s, stop, err := StartMain()
	require.NoError(t, err)
	c := failFast(s.Addr())
	defer c.Close()
	require.NoError(t, c.Ping(context.Background()).Err())

	stop()
	assert.False(t, s.Running(), "stop kills the server")
	assert.NoDirExists(t, s.Dir(), "stop removes the server's directory")
	assert.Error(t, c.Ping(context.Background()).Err())
}

// A failure is returned, not a panic or an exit: TestMain decides what to do with it.
func TestStartMainFailure(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no redis-server
	s, stop, err := StartMain()
	require.ErrorContains(t, err, "redis-server not found")
	assert.Nil(t, s)
	assert.Nil(t, stop)
}

// The directory of a server that did not start is removed too.
func TestStartMainFailureRemovesDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where StartMain makes the server's directory
	_, _, err := StartMain(WithArgs("--no-such-option", "1"))
	require.ErrorContains(t, err, "did not start")
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, entries)
}
