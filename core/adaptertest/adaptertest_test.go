package adaptertest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ratewarden/ratewarden/core/adaptertest"
)

func TestColonPath(t *testing.T) {
	t.Parallel()
	tests := []struct{ path, want string }{
		{"/api/v1/users/{id}", "/api/v1/users/:id"},
		{"/a/{x}/b/{y}", "/a/:x/b/:y"},
		{"/api/v1/test", "/api/v1/test"},
		{"/", "/"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, adaptertest.Route{Path: tt.path}.ColonPath())
	}
}

func TestWriteReplyWithoutDecision(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	adaptertest.WriteReply(rec, adaptertest.Route{Path: "/health"}, nil, false)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "/health", rec.Header().Get(adaptertest.RouteHeader))
	assert.JSONEq(t, `{"status":"ok","decided":false}`, rec.Body.String())
}
