package redistest

import (
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Ports are chosen below the kernel's ephemeral range when there is room
// there. A port from "bind :0" lies inside that range, where any outgoing
// connection on the machine (a client reconnecting, another test binary) may
// take it as its local port between our check and redis-server's bind — or
// while a killed server waits for Restart. Below the range only listeners
// compete, and the check plus the "Address already in use" retry handles them.
// A cluster node needs port+10000 free as well (its bus), so both must fit.

const (
	lowestPort = 10000
	busOffset  = 10000
	maxPort    = 65535
)

var (
	portsMu sync.Mutex
	// portsTaken holds every port (and bus port) handed out in this process,
	// so that parallel tests never get the same one, even after a Kill.
	portsTaken = map[int]bool{}
)

// pickPort returns a port free on 127.0.0.1 (and port+10000 with bus).
func (c *config) pickPort(bus bool) (int, error) {
	if len(c.ports) > 0 {
		p := c.ports[0]
		c.ports = c.ports[1:]
		return p, nil
	}
	lo, hi := lowestPort, ephemeralStart()-1
	if bus {
		hi -= busOffset
	}
	for range 200 {
		var p int
		if hi-lo >= 1000 {
			p = lo + rand.IntN(hi-lo+1)
		} else {
			// No room below the ephemeral range: let the kernel choose.
			var err error
			if p, err = kernelPort(); err != nil {
				return 0, err
			}
			if bus && p+busOffset > maxPort {
				continue
			}
		}
		if reserve(p, bus) {
			return p, nil
		}
	}
	return 0, errors.New("no free loopback port found")
}

// reserve checks that p (and p+10000 with bus) can be bound and were not handed
// out before, and marks them taken.
func reserve(p int, bus bool) bool {
	portsMu.Lock()
	defer portsMu.Unlock()
	if portsTaken[p] || (bus && portsTaken[p+busOffset]) {
		return false
	}
	if !canBind(p) || (bus && !canBind(p+busOffset)) {
		return false
	}
	portsTaken[p] = true
	if bus {
		portsTaken[p+busOffset] = true
	}
	return true
}

func canBind(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func kernelPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ephemeralStart returns the first port of the kernel's ephemeral range
// (Linux's default, 32768, where it cannot be read).
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}
