package httplimit

import "net/http"

// statusWriter records the status a handler answers with, for rules that count by
// response (count_statuses). It wraps only those requests' writers. Unwrap lets
// http.ResponseController reach the writer's other abilities (Hijack, deadlines).
type statusWriter struct {
	http.ResponseWriter
	status int // 0 until the handler writes
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 { // 1xx responses are informational: not the answer
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes a flush on, for handlers that assert http.Flusher.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Status is the status the handler answered with: 200 when it wrote nothing, as net/http
// answers then.
func (w *statusWriter) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
