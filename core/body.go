package core

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ratewarden/ratewarden/core/rate"
)

// problem holds the RFC 9457 members, set only with response.format = "problem"; the
// bodies embed it first, so that the members lead and the extension members follow.
type problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title,omitempty"`
	Status int    `json:"status,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// deniedBody is the 429 body (docs/headers.md).
type deniedBody struct {
	problem

	Error            string          `json:"error"`
	Message          string          `json:"message"`
	Limit            int64           `json:"limit"`
	Remaining        int64           `json:"remaining"`
	Reset            int64           `json:"reset"`
	RetryAfter       int64           `json:"retry_after"`
	Window           int64           `json:"window"`
	Scope            string          `json:"scope"`
	Policy           string          `json:"policy"`
	LimitsExceeded   []exceededLimit `json:"limits_exceeded"`
	DocumentationURL string          `json:"documentation_url,omitempty"`
	Penalty          *penaltyInfo    `json:"penalty,omitempty"`
}

type exceededLimit struct {
	Policy     string `json:"policy"`
	Limit      int64  `json:"limit"`
	Window     int64  `json:"window"`
	Remaining  int64  `json:"remaining"`
	Reset      int64  `json:"reset"`
	RetryAfter int64  `json:"retry_after"`
}

type penaltyInfo struct {
	Cooldown   int64 `json:"cooldown"`
	Violations int   `json:"violations"`
}

// unavailableBody is the 503 body of fail_mode = "closed".
type unavailableBody struct {
	problem

	Error   string `json:"error"`
	Message string `json:"message"`
}

// WriteResponse answers a request that must not proceed: 429 with the rate-limit body
// for [Denied], 503 for [Unavailable]. It writes the headers of [Decision.WriteHeaders]
// too, so it may be called on a fresh header map — unless [Limiter.Gate] made d and so has
// set them on the response already. For other outcomes, and a nil d, it writes nothing.
func (d *Decision) WriteResponse(w http.ResponseWriter) {
	if d == nil {
		return
	}
	var (
		status int
		body   any
	)
	switch d.Outcome {
	case Denied:
		status, body = http.StatusTooManyRequests, d.deniedBody()
	case Unavailable:
		status, body = http.StatusServiceUnavailable, d.unavailableBody()
	default:
		return
	}
	payload, err := json.Marshal(body)
	if err != nil { // plain structs of strings and numbers: cannot happen
		panic(err)
	}
	h := w.Header()
	if !d.gated { // Gate has set them on this response already
		d.WriteHeaders(h)
	}
	h.Set("Content-Type", d.contentType())
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(payload)
}

func (d *Decision) contentType() string {
	if d.settings().problemFormat {
		return "application/problem+json"
	}
	return "application/json"
}

// deniedBody is the 429 body of d. A Decision built by hand has no window: its body has
// the window's numbers and reset at 0, and a message without them.
func (d *Decision) deniedBody() *deniedBody {
	w, r, limited := d.Binding()
	retry := RetryAfterSeconds(d.RetryAfter())
	window := w.Seconds()
	message := fmt.Sprintf("Rate limit exceeded. Retry in %s.", plural(retry, "second"))
	var reset int64
	if limited {
		message = fmt.Sprintf("Rate limit exceeded: %s per %s. Retry in %s.",
			plural(w.Limit, "request"), plural(window, "second"), plural(retry, "second"))
		reset = unixCeil(d.Reset())
	}
	b := &deniedBody{
		Error:            "rate_limit_exceeded",
		Message:          message,
		Limit:            w.Limit,
		Remaining:        r.Remaining,
		Reset:            reset,
		RetryAfter:       retry,
		Window:           window,
		Scope:            d.Scope(),
		Policy:           w.Name,
		LimitsExceeded:   []exceededLimit{},
		DocumentationURL: d.settings().documentationURL,
	}
	if res := d.denial; res != nil { // nil for an admission whose Outcome was set to Denied since
		for i, pw := range d.windows() {
			wr := res.Windows[i]
			if wr.Allowed {
				continue
			}
			b.LimitsExceeded = append(b.LimitsExceeded, exceededLimit{
				Policy:     pw.Name,
				Limit:      pw.Limit,
				Window:     pw.Seconds(),
				Remaining:  wr.Remaining,
				Reset:      unixCeilAfter(d.now, wr.ResetAfter),
				RetryAfter: RetryAfterSeconds(wr.RetryAfter),
			})
		}
		if res.Cooldown > 0 {
			b.Penalty = &penaltyInfo{Cooldown: RetryAfterSeconds(res.Cooldown), Violations: res.Violations}
		}
	}
	if d.settings().problemFormat {
		b.problem = d.problem(http.StatusTooManyRequests, b.Message)
	}
	return b
}

func (d *Decision) unavailableBody() *unavailableBody {
	b := &unavailableBody{
		Error:   "rate_limit_unavailable",
		Message: fmt.Sprintf("Rate limiting is temporarily unavailable. Retry in %s.", plural(RetryAfterSeconds(d.unavailableRetry()), "second")),
	}
	if d.settings().problemFormat {
		b.problem = d.problem(http.StatusServiceUnavailable, b.Message)
	}
	return b
}

// problem returns the RFC 9457 members for a status: the type is the configured
// documentation URL, else about:blank, and the title the status text.
func (d *Decision) problem(status int, detail string) problem {
	typ := d.settings().documentationURL
	if typ == "" {
		typ = "about:blank"
	}
	return problem{Type: typ, Title: http.StatusText(status), Status: status, Detail: detail}
}

// unavailableRetry is the Retry-After of a 503: the backend's hint, else one second.
func (d *Decision) unavailableRetry() time.Duration { return UnavailableRetry(d.Err) }

// UnavailableRetry is how long a client should wait before retrying after the backend
// failed with err, as the Retry-After of a 503 says it: the hint of an open circuit
// breaker ([rate.RetryHinter]), else one second.
func UnavailableRetry(err error) time.Duration {
	var h rate.RetryHinter
	if errors.As(err, &h) && h.RetryAfter() > 0 {
		return h.RetryAfter()
	}
	return time.Second
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
