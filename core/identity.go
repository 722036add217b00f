package core

import (
	"cmp"
	"context"
)

// TierNone is the tier of a verified user whose token has no tier claim (or an API key
// whose lookup answered no tier). Like any tier
// that is not configured, it gets the rule's own limits.
const TierNone = "none"

// identify fills the identity of d: the client IP always (exemptions and logs need it),
// then, first found first (SPEC section 2): a custom key, a verified API key, a verified
// JWT user, or the IP as the counted identity. A key the lookup does not verify falls
// through to the token and the IP: it never earns a counter of its own. ctx is the
// decision's (see [Limiter.decide]): the request's values, without its cancellation.
func (s *snapshot) identify(ctx context.Context, in Input, d *Decision) {
	r := in.Request
	if addr, ok := s.resolver.ClientIP(r.RemoteAddr, r.Header); ok {
		d.ClientIP = addr
	}
	// A peer address that cannot be parsed (a unix socket without a trusted proxy in
	// front) leaves the zero prefix: all such clients share one counter, "ip::<rule>",
	// rather than each getting a fresh quota.
	d.setClient(scopeIP, "")
	d.Tier = TierAnonymous
	if in.Key != "" {
		d.setClient(scopeKey, in.Key)
		return
	}
	if s.apiKeys != nil {
		if key := r.Header.Get(s.apiKeys.header); key != "" {
			if id, ok := s.apiKeys.identify(ctx, key); ok {
				d.setClient(scopeKey, id.User)
				d.Tier, d.apiKey = cmp.Or(id.Tier, TierNone), true
				return
			}
		}
	}
	if s.verifier == nil {
		return
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return
	}
	if id, ok := s.verifier.Identify(auth); ok {
		d.setClient(scopeUser, id.User)
		d.Tier = cmp.Or(id.Tier, TierNone)
	}
}

// exempt reports whether the client of d is exempted by IP or by verified user id: a
// token's user, or an API key's. A custom key is not verified, so it is never exempt by id.
func (s *snapshot) exempt(d *Decision) bool {
	if s.exemptIPs.Len() > 0 && d.ClientIP.IsValid() && s.exemptIPs.Contains(d.ClientIP) {
		return true
	}
	if d.scope != scopeUser && !d.apiKey || len(s.exemptUsers) == 0 {
		return false
	}
	_, ok := s.exemptUsers[d.clientID]
	return ok
}
