package clientip

// Config says how the client address is derived from the connection and, for trusted
// proxies only, from forwarding headers. Its zero value trusts no proxy, reads
// X-Forwarded-For (from trusted proxies only) and keys IPv6 clients by /64.
type Config struct {
	TrustedProxies []string `koanf:"trusted_proxies"` // CIDRs or single IPs
	Header         string   `koanf:"header"`          // "X-Forwarded-For" (default), "Forwarded" or "X-Real-IP"
	IPv6Prefix     int      `koanf:"ipv6_prefix"`     // default 64
}
