package core_test

import (
	"strconv"
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
	for _, n := range []int{1_000, 100_000} {
		before := h.log.Len()
		d := h.decide(request{path: "/" + strings.Repeat("%FF", n)})
		require.Equal(t, core.Denied, d.Outcome)
		record := h.log.String()[before:]
		// JSON writes each invalid byte as the 6 bytes of "\ufffd": 255 of them are 1,530.
		assert.Less(t, len(record), 6*core.MaxClientTextBytes+600, "one record, whatever the path's size")
		logged, _ := decodeJSON(t, []byte(record))["path"].(string)
		want := "/" + strings.Repeat("\ufffd", core.MaxClientTextBytes-1) + "…(+" + strconv.Itoa(n-core.MaxClientTextBytes+1) + " bytes)"
		assert.Equal(t, want, logged, "the path's first 256 bytes, and how many were left out")
	}
}
