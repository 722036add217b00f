package pattern

import (
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
	tests := []struct {
		pattern string
		match   []string
		miss    []string
	}{
		{"/", []string{"/", "//"}, []string{"/a"}},
		{"/api/v1/compute", []string{"/api/v1/compute", "/api/v1/compute/", "/api//v1/./compute"}, []string{"/api/v1", "/api/v1/compute/x", "/api/v1/computer"}},
		{"/admin/*", []string{"/admin/a", "/admin/a/b/c"}, []string{"/admin", "/admin/", "/administrator/a"}},
		{"/users/{id}", []string{"/users/1", "/users/:id", "/users/{id}"}, []string{"/users", "/users/1/posts"}},
		{"/users/:id/posts", []string{"/users/1/posts"}, []string{"/users/1", "/users/1/posts/2"}},
	}
	for _, tt := range tests {
		p, err := Parse(tt.pattern)
		require.NoError(t, err, tt.pattern)
		for _, path := range tt.match {
			assert.True(t, p.Match(path), "%s should match %s", tt.pattern, path)
		}
		for _, path := range tt.miss {
			assert.False(t, p.Match(path), "%s should not match %s", tt.pattern, path)
		}
	}
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
}

// FuzzPattern parses arbitrary patterns and matches arbitrary paths: nothing panics, a
// parsed pattern matches its own text, and matching ignores empty segments as documented.
func FuzzPattern(f *testing.F) {
	for _, seed := range [][2]string{
		{"/api/v1/compute", "/api/v1/compute"},
		{"/admin/*", "/admin/a/b"},
		{"/users/{id}/posts", "/users/1/posts"},
		{"/users/:id", "//users/./x/"},
		{"/", ""},
		{"/a/*", "/a/"},
		{"/.", "/."}, // found by the fuzzer: a "." segment could never match
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
		if p.Match(path) != p.Match(strings.ReplaceAll("/"+path+"/", "/", "//")) {
			t.Fatalf("pattern %q: doubling the slashes of %q changed the match", raw, path)
		}
	})
}
