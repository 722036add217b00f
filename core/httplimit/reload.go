package httplimit

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/ratewarden/ratewarden/core"
)

// ReloadHandler serves POST /admin/reload: it reloads lim with the configuration load
// returns. The bearer token is admin.token of the configuration in force; while it is
// empty the endpoint does not exist (404). A missing or wrong token is 401; a reload that
// fails validation is 422 with the problems; a configuration that cannot be read is 500;
// success is 200 {"status":"reloaded"}. Tokens are compared in constant time.
func ReloadHandler(lim *core.Limiter, load func() (core.Config, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := lim.Config().Admin.Token
		if token == "" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed"})
			return
		}
		given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(given), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ratewarden-admin"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
			return
		}
		cfg, err := load()
		if err == nil {
			err = lim.Reload(cfg)
		}
		var invalid *core.ValidationError
		switch {
		case errors.As(err, &invalid):
			problems := make([]string, len(invalid.Problems))
			for i, p := range invalid.Problems {
				problems[i] = p.String()
			}
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "invalid_configuration", "problems": problems})
		case err != nil:
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "reload_failed", "message": err.Error()})
		default:
			writeJSON(w, http.StatusOK, map[string]string{"status": "reloaded"})
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
