package app

import (
	"encoding/json"
	"net/http"
)

// The example routes' answers: small JSON bodies, the same in every app.

// Test answers GET /api/v1/test.
func Test(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"message": "ok"})
}

// Health answers GET /health.
func Health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "healthy"})
}

// Compute answers GET and POST /api/v1/compute.
func Compute(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"result": "computed"})
}

// User answers GET /api/v1/users/:id with the id the router extracted.
func User(w http.ResponseWriter, id string) {
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
}

// Password is the one password Login accepts: the example has no users.
const Password = "letmein"

// Login answers POST /api/v1/login: 200 when the form value "password" is [Password],
// else 401 — to show count_statuses, which counts only the failures.
func Login(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("password") != Password {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_credentials"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "logged_in"})
}

// Error answers GET /api/v1/error with a 500, to show the rate-limit headers on errors.
func Error(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal_error"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
