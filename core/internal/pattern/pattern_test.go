package pattern

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePatternRejectsWhatIsNotAPattern(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"", "api", "/.", "/a/../b", "/a//b", "/a/*/b", "/a/b*", "/a/{}", "/a/:", "/a/{id", "/a?x=1", "/a b", "/a/x{id}"} {
		_, err := Parse(raw)
		assert.Error(t, err, "%q", raw)
	}
}

func TestPatternMatching(t *testing.T) {
	t.Parallel()
	tests := []matching{
		{"/", []string{"/", "//"}, []string{"/a"}},
		{"/api/v1/compute", []string{"/api/v1/compute", "/api/v1/compute/", "/api//v1/./compute"}, []string{"/api/v1", "/api/v1/compute/x", "/api/v1/computer"}},
		{"/admin/*", []string{"/admin/a", "/admin/a/b/c"}, []string{"/admin", "/admin/", "/administrator/a"}},
		{"/users/{id}", []string{"/users/1", "/users/:id", "/users/{id}"}, []string{"/users", "/users/1/posts"}},
		{"/users/:id/posts", []string{"/users/1/posts"}, []string{"/users/1", "/users/1/posts/2"}},
	}
	checkMatching(t, tests, (*Pattern).Match)
}

// matching is a pattern with paths it must match and paths it must not.
type matching struct {
	pattern     string
	match, miss []string
}

// checkMatching asserts match's verdicts (Match or MatchEscaped) on the paths of tests.
func checkMatching(t *testing.T, tests []matching, match func(*Pattern, string) bool) {
	t.Helper()
	for _, tt := range tests {
		p, err := Parse(tt.pattern)
		require.NoError(t, err, tt.pattern)
		for _, path := range tt.match {
			assert.True(t, match(&p, path), "%s should match %s", tt.pattern, path)
		}
		for _, path := range tt.miss {
			assert.False(t, match(&p, path), "%s should not match %s", tt.pattern, path)
		}
	}
}

// TestMatchEscapedSplitsBeforeUnescaping: an escaped path's segments are those routers
// see, so an escaped slash stays inside its segment and an escaped dot is a segment.
func TestMatchEscapedSplitsBeforeUnescaping(t *testing.T) {
	t.Parallel()
	tests := []matching{
		{"/api/v1/users/{id}",
			[]string{"/api/v1/users/a%2Fb", "/api/v1/users/a%2fb%2Fc", "/api/v1/users/%2F", "/api/v1/users/%2e", "/api/v1/users/%2E%2e", "/api/v1/users/..", "//api/v1/./users/a%2Fb/", "/api/v1/users/%zz", "/api/v1/users/%"},
			[]string{"/api/v1/users/a/b", "/api/v1/users", "/api/v1/users/.", "/api%2Fv1/users/1", "/api/v1/users%2F1"}},
		{"/api/v1/compute",
			[]string{"/api/v1/compute", "/api/v1/%63ompute", "/%61pi/v1/comput%65/", "/api//v1/./compute"},
			[]string{"/api%2Fv1/compute", "/api/v1/compute%2F", "/api/v1/%2e/compute", "/api/v1/compute%2Fx", "/api/v1/%63omput"}},
		{"/admin/*",
			[]string{"/admin/a%2Fb", "/admin/%2e", "/%61dmin/x/y"},
			[]string{"/admin%2Fx", "/admin/", "/admin/."}},
		// A pattern is decoded text; a segment with a malformed escape is compared as it is.
		{"/a%zz/b%41", []string{"/a%zz/b%2541", "/a%25zz/b%2541"}, []string{"/a%zz/b%41", "/azz/bA", "/a%zz/bA", "/a%z/b%2541"}},
		{"/caf\u00e9/x+y", []string{"/caf%C3%A9/x+y", "/caf%c3%a9/x%2By", "/caf\u00e9/x+y"}, []string{"/caf%C3/x+y", "/cafe/x+y", "/caf%C3%A9/x%20y"}},
	}
	checkMatching(t, tests, (*Pattern).MatchEscaped)
	// The same text, decoded, is two segments: what the matcher saw before it split first.
	p, err := Parse("/api/v1/users/{id}")
	require.NoError(t, err)
	assert.False(t, p.Match("/api/v1/users/a/b"))
}

func TestSlug(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "api-v1-users-id", Slug("/api/v1/users/{id}"))
	assert.Equal(t, "api-v1-admin-any", Slug("/api/v1/admin/*"))
	assert.Equal(t, "root", Slug("/"))
}

func TestMatchingDoesNotAllocate(t *testing.T) {
	p, err := Parse("/api/v1/users/{id}/posts")
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(100, func() { p.Match("/api/v1/users/42/posts") }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { p.MatchEscaped("/%61pi/v1/users/a%2Fb/posts") }))
}

// FuzzPattern parses arbitrary patterns and matches arbitrary paths: nothing panics, a
// parsed pattern matches its own text, matching ignores empty segments as documented, and
// an escaped path matches as its segments decoded do: a path without escapes as itself,
// and a path whose segments are escaped byte by byte as the path was before.
func FuzzPattern(f *testing.F) {
	for _, seed := range [][2]string{
		{"/api/v1/compute", "/api/v1/compute"},
		{"/admin/*", "/admin/a/b"},
		{"/users/{id}/posts", "/users/1/posts"},
		{"/users/:id", "//users/./x/"},
		{"/", ""},
		{"/a/*", "/a/"},
		{"/.", "/."}, // found by the fuzzer: a "." segment could never match
		{"/users/{id}", "/users/a%2Fb"},
		{"/a%2/b", "/a%2/b%"},
		{"/a/%41", "/a/%2541"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, raw, path string) {
		p, err := Parse(raw)
		if err != nil {
			return
		}
		if !p.Match(raw) {
			t.Fatalf("pattern %q does not match its own text", raw)
		}
		match := p.Match(path)
		if match != p.Match(strings.ReplaceAll("/"+path+"/", "/", "//")) {
			t.Fatalf("pattern %q: doubling the slashes of %q changed the match", raw, path)
		}
		if escaped := p.MatchEscaped(path); !strings.Contains(path, "%") && escaped != match {
			t.Fatalf("pattern %q: path %q without escapes matches %v escaped, %v decoded", raw, path, escaped, match)
		}
		if escaped := escapeSegments(path); p.MatchEscaped(escaped) != match {
			t.Fatalf("pattern %q: %q escaped as %q changed the match", raw, path, escaped)
		}
	})
}

// escapeSegments escapes every byte of path's segments, but for the "." ones that matching
// ignores, as a client may: "/a/./b" is "/%61/./%62".
func escapeSegments(path string) string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if seg == "." {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(seg); j++ {
			fmt.Fprintf(&b, "%%%02X", seg[j])
		}
		segs[i] = b.String()
	}
	return strings.Join(segs, "/")
}
