package core_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ratewarden/ratewarden/core"
	"github.com/ratewarden/ratewarden/core/config"
)

func TestClientAttrCutsLongText(t *testing.T) {
	t.Parallel()
	short := strings.Repeat("a", core.MaxClientTextBytes)
	assert.Equal(t, short, core.ClientAttr("path", short).Value.String(), "up to the bound, as sent")

	long := core.ClientAttr("path", strings.Repeat("a", 1000)).Value.String()
	assert.Equal(t, strings.Repeat("a", core.MaxClientTextBytes)+"…(+744 bytes)", long)

	// "é" is two bytes: the cut falls inside the one that straddles the bound, and moves
	// before it.
	odd := strings.Repeat("a", core.MaxClientTextBytes-1) + strings.Repeat("é", 10)
	got := core.ClientAttr("path", odd).Value.String()
	assert.True(t, utf8.ValidString(got))
	assert.Equal(t, strings.Repeat("a", core.MaxClientTextBytes-1)+"…(+20 bytes)", got)
}

// TestTheDenialLogDoesNotFollowThePathsSize: every denial is logged with its path (SPEC
// section 7), so a denied client sending 300,000-byte paths wrote 900 KB of log for each
// 429 (found by an attacker review); the record now stays small.
func TestTheDenialLogDoesNotFollowThePathsSize(t *testing.T) {
	t.Parallel()
	h := newHarness(t, config.Config{Default: config.Limits{Limit: 1, Window: time.Minute}})
	h.decide(request{path: "/"})
	var sizes []int
	for _, n := range []int{1_000, 100_000} {
		before := h.log.Len()
		d := h.decide(request{path: "/" + strings.Repeat("%FF", n)})
		require.Equal(t, core.Denied, d.Outcome)
		record := h.log.String()[before:]
		assert.Contains(t, record, `"msg":"rate_limit_exceeded"`)
		assert.Contains(t, record, "bytes)")
		sizes = append(sizes, len(record))
	}
	// Only the count of bytes left out grows. (JSON writes each of these invalid bytes as
	// the 6 bytes of "\ufffd": 256 of them are 1,536.)
	assert.InDelta(t, sizes[0], sizes[1], 3, "records of denials with paths of 1,000 and 100,000 bytes")
	assert.Less(t, sizes[1], 6*core.MaxClientTextBytes+600)
}
