package clientip

import (
	"net/netip"

	"github.com/ratewarden/ratewarden/core/internal/defaults"
)

// Key returns the prefix a client address is counted under: the /32 of an IPv4
// address (an IPv4-mapped address counts as IPv4) and, for IPv6, the address masked to
// the configured prefix length (default /64) without its zone. It returns the zero
// Prefix for the zero Addr. Key is safe for concurrent use.
func (r *Resolver) Key(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	if addr.Is4() {
		return netip.PrefixFrom(addr, 32)
	}
	if !addr.IsValid() {
		return netip.Prefix{}
	}
	bits := r.ipv6Prefix
	if bits == 0 {
		bits = defaults.IPv6Prefix
	}
	p, _ := addr.WithZone("").Prefix(bits) // bits is within 1..128, validated by New
	return p
}

// AppendKey appends the canonical text of the key prefix p to dst and returns the
// extended buffer: the address alone for a full-length prefix ("203.0.113.7" rather than
// "203.0.113.7/32", "2001:db8::1" rather than "2001:db8::1/128"), and the masked prefix in
// RFC 5952 form otherwise ("2001:db8:1:2::/64"). It appends nothing for the zero Prefix.
func AppendKey(dst []byte, p netip.Prefix) []byte {
	if !p.IsValid() {
		return dst
	}
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().AppendTo(dst)
	}
	return p.Masked().AppendTo(dst)
}
