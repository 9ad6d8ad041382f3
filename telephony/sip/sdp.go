package sip

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/hotline-ivr/hotline/telephony/codec"
	"github.com/hotline-ivr/hotline/telephony/media"
)

// offer is what we take from the caller's SDP.
type offer struct {
	remote  netip.AddrPort // where to send RTP (zero port: media stream rejected)
	codec   codec.Info
	dtmfPT  uint8 // 0: no telephone-event
	dir     media.Direction
	hold    bool // c=0.0.0.0 or sendonly/inactive
	offered []string
	proto   string   // RTP/AVP, RTP/AVPF, RTP/SAVP or RTP/SAVPF
	cryptos []string // the audio stream's a=crypto values, unparsed (negotiateSRTP)
}

// parseOffer negotiates an SDP offer against the preference list: G.722 >
// PCMU > PCMA, plus telephone-event/8000 when offered. If keep is set (a
// re-offer mid-call), that codec stays whenever it is still offered, and
// only an offer without it moves to the best other codec of prefs. The
// SRTP side (proto, a=crypto) is left to negotiateSRTP. It also reads the
// caller's answer of a late offer (the ACK's SDP).
func parseOffer(body []byte, prefs []string, keep string) (offer, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return offer{}, fmt.Errorf("%w: %w: %v", ErrNotAcceptable, ErrMalformedSDP, err)
	}
	var md *sdp.MediaDescription
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media == "audio" && m.MediaName.Port.Value != 0 {
			md = m
			break
		}
	}
	if md == nil {
		return offer{}, fmt.Errorf("%w: no audio stream in offer", ErrNotAcceptable)
	}
	proto := strings.Join(md.MediaName.Protos, "/")
	switch proto {
	case "RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF":
	default:
		return offer{}, fmt.Errorf("%w: transport %s not supported (RTP/AVP, or RTP/SAVP keyed by SDES a=crypto; not DTLS-SRTP)", ErrNotAcceptable, proto)
	}

	// Payload type → encoding name from rtpmap, falling back to the
	// static assignments of RFC 3551.
	names := map[uint8]string{}
	clocks := map[uint8]int{}
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		ptStr, enc, ok := strings.Cut(a.Value, " ")
		pt, err := strconv.Atoi(ptStr)
		if !ok || err != nil || pt < 0 || pt > 127 {
			continue
		}
		name, rate, _ := strings.Cut(enc, "/")
		names[uint8(pt)] = strings.ToUpper(name)
		if r, _, _ := strings.Cut(rate, "/"); r != "" {
			clocks[uint8(pt)], _ = strconv.Atoi(r)
		}
	}
	o := offer{proto: proto}
	for _, a := range md.Attributes {
		if a.Key == "crypto" {
			o.cryptos = append(o.cryptos, a.Value)
		}
	}
	found := map[string]uint8{}
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			continue
		}
		name, ok := names[uint8(pt)]
		if !ok {
			if i, ok := codec.LookupPayloadType(uint8(pt)); ok && pt < 96 {
				name = i.Name
			}
		}
		if name == "" {
			continue
		}
		o.offered = append(o.offered, name)
		if name == "TELEPHONE-EVENT" && (clocks[uint8(pt)] == 8000 || clocks[uint8(pt)] == 0) && o.dtmfPT == 0 {
			o.dtmfPT = uint8(pt)
			continue
		}
		if i, ok := codec.Lookup(name); ok && uint8(pt) == i.PayloadType {
			if _, dup := found[i.Name]; !dup {
				found[i.Name] = uint8(pt)
			}
		}
	}
	if _, ok := found[keep]; ok && keep != "" {
		prefs = []string{keep}
	}
	for _, p := range prefs {
		if _, ok := found[p]; ok {
			o.codec, _ = codec.Lookup(p)
			break
		}
	}
	if o.codec.Name == "" {
		return offer{}, fmt.Errorf("%w: no common codec (offered %s, supported %s)", ErrNotAcceptable,
			strings.Join(o.offered, ","), strings.Join(prefs, ","))
	}

	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return offer{}, fmt.Errorf("%w: no connection address", ErrNotAcceptable)
	}
	addr, err := netip.ParseAddr(ci.Address.Address)
	if err != nil {
		return offer{}, fmt.Errorf("%w: %w: bad connection address %q", ErrNotAcceptable, ErrMalformedSDP, ci.Address.Address)
	}
	o.remote = netip.AddrPortFrom(addr.Unmap(), uint16(md.MediaName.Port.Value))

	// Direction: media level overrides session level.
	o.dir = media.SendRecv
	for _, attrs := range [][]sdp.Attribute{sd.Attributes, md.Attributes} {
		for _, a := range attrs {
			switch d := media.Direction(a.Key); d {
			case media.SendRecv, media.SendOnly, media.RecvOnly, media.Inactive:
				o.dir = d
			}
		}
	}
	if addr.IsUnspecified() { // RFC 2543 hold
		o.dir = media.Inactive
	}
	o.hold = o.dir == media.SendOnly || o.dir == media.Inactive
	return o, nil
}

// answerDirection is our direction for the offer's direction.
func answerDirection(d media.Direction) media.Direction {
	switch d {
	case media.SendOnly:
		return media.RecvOnly
	case media.RecvOnly:
		return media.SendOnly
	case media.Inactive:
		return media.Inactive
	}
	return media.SendRecv
}

// buildAnswer writes our plain RTP/AVP answer: one codec, telephone-event
// if negotiated, ptime 20. version must grow with every new answer in the
// dialog.
func buildAnswer(ip string, port int, sessID, version uint64, c codec.Info, dtmfPT uint8, dir media.Direction) []byte {
	return buildSDP(ip, port, sessID, version, sdpMedia{codecs: []codec.Info{c}, dtmfPT: dtmfPT, dir: dir})
}

// sdpMedia is our audio stream: an answer has one codec, a late offer
// all of ours in preference order.
type sdpMedia struct {
	proto  string // "": RTP/AVP
	codecs []codec.Info
	dtmfPT uint8
	dir    media.Direction
	crypto []media.Crypto
}

// dtmfOfferPT is the telephone-event payload type of our own offers.
const dtmfOfferPT = 101

func buildSDP(ip string, port int, sessID, version uint64, m sdpMedia) []byte {
	fam := "IP4"
	if a, err := netip.ParseAddr(ip); err == nil && a.Is6() && !a.Is4In6() {
		fam = "IP6"
	}
	proto := m.proto
	if proto == "" {
		proto = "RTP/AVP"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=hotline %d %d IN %s %s\r\ns=hotline\r\nc=IN %s %s\r\nt=0 0\r\n", sessID, version, fam, ip, fam, ip)
	fmt.Fprintf(&b, "m=audio %d %s", port, proto)
	for _, c := range m.codecs {
		fmt.Fprintf(&b, " %d", c.PayloadType)
	}
	if m.dtmfPT != 0 {
		fmt.Fprintf(&b, " %d", m.dtmfPT)
	}
	b.WriteString("\r\n")
	for _, c := range m.codecs {
		fmt.Fprintf(&b, "a=rtpmap:%d %s/%d\r\n", c.PayloadType, c.Name, c.ClockRate)
	}
	if m.dtmfPT != 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", m.dtmfPT, m.dtmfPT)
	}
	for _, c := range m.crypto {
		fmt.Fprintf(&b, "a=crypto:%s\r\n", c)
	}
	fmt.Fprintf(&b, "a=ptime:20\r\na=%s\r\n", m.dir)
	return []byte(b.String())
}
