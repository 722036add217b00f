package clientip_test

import (
	"fmt"
	"net/http"

	"github.com/ratewarden/ratewarden/core/clientip"
)

func ExampleResolver_ClientIP() {
	r, err := clientip.New(clientip.Config{TrustedProxies: []string{"10.0.0.0/8"}})
	if err != nil {
		panic(err)
	}
	h := http.Header{"X-Forwarded-For": {"6.6.6.6, 203.0.113.7, 10.0.0.2"}}

	// From a trusted proxy, the header is walked from the right: 10.0.0.2 is trusted,
	// 203.0.113.7 is not, so it is the client. 6.6.6.6 was written by the client itself.
	addr, _ := r.ClientIP("10.0.0.1:51234", h)
	fmt.Println(addr)

	// From anyone else, the header is ignored.
	addr, _ = r.ClientIP("198.51.100.1:51234", h)
	fmt.Println(addr)

	// IPv6 clients are counted by their /64.
	addr, _ = r.ClientIP("[2001:db8:1:2:aaaa::1]:51234", nil)
	fmt.Println(string(clientip.AppendKey([]byte("ip:"), r.Key(addr))))
	// Output:
	// 203.0.113.7
	// 198.51.100.1
	// ip:2001:db8:1:2::/64
}

func ExampleNew_error() {
	_, err := clientip.New(clientip.Config{
		TrustedProxies: []string{"10.0.0.0/8", "10.0.0.999"},
		Header:         "X-Foo",
		IPv6Prefix:     200,
	})
	fmt.Println(err)
	// Output:
	// trusted_proxies[1]: not an IP or CIDR, got "10.0.0.999"
	// header: must be X-Forwarded-For, Forwarded or X-Real-IP, got "X-Foo"
	// ipv6_prefix: must be between 1 and 128, got 200
}
