package media

import (
	"fmt"
	"net"
	"sync"
)

// PortAllocator hands out RTP/RTCP port pairs (even RTP port, RTCP on the
// next odd one, RFC 3550 §11) from a fixed range, so firewalls and the
// SIP proxy in front can open exactly that range. Ports are tried
// round-robin: reusing a just-freed port at once would let a late packet
// of the previous call land in the next one.
type PortAllocator struct {
	min, max int // even min, inclusive max

	mu   sync.Mutex
	next int
	used map[int]bool
}

// NewPortAllocator returns an allocator for ports in [min, max].
func NewPortAllocator(min, max int) (*PortAllocator, error) {
	if min%2 == 1 {
		min++
	}
	if min <= 0 || max > 65535 || max < min+1 {
		return nil, fmt.Errorf("media: bad RTP port range %d-%d", min, max)
	}
	return &PortAllocator{min: min, max: max, next: min, used: map[int]bool{}}, nil
}

// Listen binds an RTP and an RTCP socket on ip (empty for all addresses)
// at the next free even port. Ports that fail to bind (taken by another
// process) are skipped.
func (a *PortAllocator) Listen(ip string) (rtpConn, rtcpConn *net.UDPConn, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pairs := (a.max - a.min + 1) / 2
	for range pairs {
		p := a.next
		a.next += 2
		if a.next+1 > a.max {
			a.next = a.min
		}
		if a.used[p] {
			continue
		}
		c1, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip), Port: p})
		if err != nil {
			continue
		}
		c2, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip), Port: p + 1})
		if err != nil {
			c1.Close()
			continue
		}
		a.used[p] = true
		return c1, c2, nil
	}
	return nil, nil, ErrNoPorts
}

// Release returns the pair whose RTP port is port.
func (a *PortAllocator) Release(port int) {
	a.mu.Lock()
	delete(a.used, port)
	a.mu.Unlock()
}

// InUse is the number of pairs handed out (for metrics and leak tests).
func (a *PortAllocator) InUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.used)
}
