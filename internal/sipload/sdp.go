package sipload

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// dtmfPT is the dynamic payload type we offer for telephone-event.
const dtmfPT = 101

func offerSDP(ip string, port int, info codecInfo, id int) []byte {
	return fmt.Appendf(nil, "v=0\r\no=sipload %d 1 IN IP4 %s\r\ns=sipload\r\nc=IN IP4 %s\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP %d %d\r\na=rtpmap:%d %s/%d\r\na=rtpmap:%d telephone-event/8000\r\n"+
		"a=fmtp:%d 0-15\r\na=ptime:20\r\na=sendrecv\r\n",
		id, ip, ip, port, info.pt, dtmfPT, info.pt, info.name, info.clock, dtmfPT, dtmfPT)
}

type codecInfo struct {
	name  string
	pt    uint8
	clock int
}

// answer is what we use of the server's SDP: where to send RTP, the codec
// it chose and its telephone-event payload type (0: none).
type answer struct {
	remote netip.AddrPort
	pt     uint8
	dtmfPT uint8
}

func parseAnswer(body []byte) (answer, error) {
	var a answer
	var addr netip.Addr
	var port int
	for line := range strings.Lines(string(body)) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "c=IN IP4 "), strings.HasPrefix(line, "c=IN IP6 "):
			ip, err := netip.ParseAddr(strings.TrimSpace(line[9:]))
			if err != nil {
				return a, fmt.Errorf("%w: %q", ErrSDP, line)
			}
			addr = ip
		case strings.HasPrefix(line, "m=audio "):
			f := strings.Fields(line)
			if len(f) < 4 {
				return a, fmt.Errorf("%w: %q", ErrSDP, line)
			}
			p, err := strconv.Atoi(f[1])
			if err != nil {
				return a, fmt.Errorf("%w: %q", ErrSDP, line)
			}
			port = p
			pt, err := strconv.Atoi(f[3])
			if err != nil {
				return a, fmt.Errorf("%w: %q", ErrSDP, line)
			}
			a.pt = uint8(pt)
		case strings.HasPrefix(line, "a=rtpmap:") && strings.Contains(strings.ToLower(line), "telephone-event"):
			n, _, _ := strings.Cut(line[len("a=rtpmap:"):], " ")
			if pt, err := strconv.Atoi(n); err == nil {
				a.dtmfPT = uint8(pt)
			}
		}
	}
	if !addr.IsValid() || port == 0 {
		return a, fmt.Errorf("%w: no connection address or audio port", ErrSDP)
	}
	a.remote = netip.AddrPortFrom(addr, uint16(port))
	return a, nil
}
