package core

import (
	"context"
	"log/slog"
	"slices"

	"github.com/ratewarden/ratewarden/core/rate"
)

// CountsResponse reports whether the request's cost is consumed only after its handler,
// by [Decision.Complete] with the response status: its rule has count_statuses and the
// request was admitted. Adapters capture the status only then, so other requests pay
// nothing for the feature.
func (d *Decision) CountsResponse() bool {
	return d != nil && d.counting && d.Outcome == Allowed
}

// Complete tells the decision of a request the status its handler answered with. When the
// request's rule counts by response (count_statuses, see [Decision.CountsResponse]) and
// status is listed, it consumes the request's cost now, in every window, beyond full too
// (rate.OpConsume: a window may owe up to its limit, and denies until that has drained);
// otherwise it does nothing. The adapters call it after the handler; call it once per
// decision.
//
// The check before the handler and this consume are two steps: concurrent requests may
// each pass the check before any is counted, so the requests admitted and counted can
// exceed a limit by the number in flight (docs/rules.md). Sequential requests are exact.
// A backend failure here is logged and the request goes uncounted. ctx gives the consume
// its values only: its cancellation and deadline do not cut it short, so a client that
// hangs up before its failed login is answered is still counted (see [Limiter.Gate]).
func (d *Decision) Complete(ctx context.Context, status int) {
	if !d.CountsResponse() || !slices.Contains(d.rule.CountStatuses, status) {
		return
	}
	l := d.limiter()
	req := rate.Request{Key: d.key, Policy: d.limits.Policy, Cost: d.limits.Cost, Now: l.now(), Op: rate.OpConsume}
	var res rate.Result
	if err := l.store.Take(context.WithoutCancel(ctx), &req, &res); err != nil {
		l.logger.LogAttrs(ctx, slog.LevelError, "rate_limit_count_failed",
			slog.String("rule", d.Rule()), slog.String("client_id", d.ClientID()), slog.String("error", err.Error()))
	}
	d.counting = false // once
}
