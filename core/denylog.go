package core

import (
	"log/slog"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/ratewarden/ratewarden/core/config"
)

// logDenial writes the warn record of SPEC section 7 for the denial d of r (or, in shadow
// mode, a would-be denial), with the request's context so that handlers see its trace.
func (l *Limiter) logDenial(r *http.Request, d *Decision) {
	ctx := r.Context()
	if !l.logger.Enabled(ctx, slog.LevelWarn) {
		return
	}
	w, wr, _ := d.Binding()
	s := d.snapshot
	attrs := []slog.Attr{
		slog.String("client_id", d.ClientID()),
		slog.String("scope", d.Scope()),
		slog.String("tier", d.Tier),
		slog.String("rule", d.Rule()),
		ClientAttr("method", r.Method),
		ClientAttr("path", r.URL.Path),
		slog.Int64("limit", w.Limit),
		slog.Int64("remaining", wr.Remaining),
		slog.Int64("window", w.Seconds()),
		slog.Int64("retry_after", RetryAfterSeconds(d.RetryAfter())),
		slog.String("algorithm", string(s.cfg.Algorithm)),
		slog.String("backend", string(s.cfg.Backend)),
	}
	if d.denial.Cooldown > 0 {
		attrs = append(attrs, slog.Int64("penalty_cooldown", RetryAfterSeconds(d.denial.Cooldown)))
	}
	if d.Outcome == ShadowDenied {
		attrs = append(attrs, slog.String("mode", string(config.ModeShadow)))
	}
	l.logger.LogAttrs(ctx, slog.LevelWarn, "rate_limit_exceeded", attrs...)
}

// MaxClientTextBytes bounds the text a client chose — a request's path or method — in a
// log record (see [ClientAttr]).
const MaxClientTextBytes = 256

// ClientAttr is a string attribute of text a client chose, such as a request's path: cut
// to [MaxClientTextBytes] bytes at a character boundary, with "…(+<n> bytes)" for the rest,
// so that a record's size does not follow what a client sends. Every denial is logged
// (SPEC section 7): a denied client sending megabyte paths would otherwise write
// megabytes of log for each 429 it gets. The denial log and the admin endpoints' records
// use it.
func ClientAttr(key, text string) slog.Attr {
	if len(text) <= MaxClientTextBytes {
		return slog.String(key, text)
	}
	n := MaxClientTextBytes
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return slog.String(key, text[:n]+"…(+"+strconv.Itoa(len(text)-n)+" bytes)")
}
