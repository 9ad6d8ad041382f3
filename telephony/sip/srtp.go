package sip

import (
	"fmt"
	"strings"

	"github.com/hotline-ivr/hotline/telephony/media"
)

// SRTPPolicy says when a call's media is encrypted: SRTP keyed by SDES
// (RFC 4568 a=crypto lines in the SDP; the keys travel in the signalling,
// so SIP over TLS is what keeps them secret).
type SRTPPolicy string

const (
	// SRTPOff refuses RTP/SAVP offers with 488 and ignores a=crypto in
	// RTP/AVP offers.
	SRTPOff SRTPPolicy = "off"
	// SRTPOptional encrypts when the caller offers it (RTP/SAVP, or
	// "best effort" a=crypto in an RTP/AVP offer) and takes plain RTP
	// otherwise. Late-offer calls are offered plain RTP/AVP.
	SRTPOptional SRTPPolicy = "optional"
	// SRTPRequired refuses plain offers with 488 and offers RTP/SAVP to
	// late-offer callers.
	SRTPRequired SRTPPolicy = "required"
)

// sdes is a call's negotiated SRTP: our key (answered with the tag of
// the caller's chosen line) and the caller's.
type sdes struct {
	local, remote media.Crypto
}

func (k *sdes) keys() media.SRTP { return media.SRTP{Local: k.local, Remote: k.remote} }

func secureProto(proto string) bool { return proto == "RTP/SAVP" || proto == "RTP/SAVPF" }

// negotiateSRTP applies the policy to an offer. It picks the caller's
// acceptable a=crypto line whose suite we prefer most and answers it with
// a fresh key of our own; nil means plain RTP. On a re-INVITE (reinvite
// set, prev the call's keys or nil for a plain call) the media may not
// switch between plain and SRTP, and an unchanged caller key keeps ours,
// so only a real re-key from the caller re-keys both directions.
func negotiateSRTP(o offer, policy SRTPPolicy, reinvite bool, prev *sdes) (*sdes, error) {
	secure := secureProto(o.proto)
	if policy == SRTPOff {
		if secure {
			return nil, fmt.Errorf("%w: %s offered but SRTP is off here (sip.srtp: off)", ErrNotAcceptable, o.proto)
		}
		return nil, nil
	}
	var picked *media.Crypto
	var why []string
	for _, line := range o.cryptos {
		c, err := media.ParseCrypto(line)
		if err != nil {
			why = append(why, fmt.Sprintf("a=crypto:%s refused: %v", shortCrypto(line), err))
			continue
		}
		if picked == nil || suiteRank(c.Suite) < suiteRank(picked.Suite) {
			picked = &c
		}
	}
	if picked == nil {
		switch {
		case secure && len(o.cryptos) == 0:
			return nil, fmt.Errorf("%w: %s offer without a=crypto (only SDES keying is supported, not DTLS-SRTP)", ErrNotAcceptable, o.proto)
		case secure:
			return nil, fmt.Errorf("%w: no acceptable a=crypto line: %s", ErrNotAcceptable, strings.Join(why, "; "))
		case policy == SRTPRequired && len(why) > 0:
			return nil, fmt.Errorf("%w: plain RTP refused (sip.srtp: required) and no acceptable a=crypto line: %s", ErrNotAcceptable, strings.Join(why, "; "))
		case policy == SRTPRequired:
			return nil, fmt.Errorf("%w: plain %s refused (sip.srtp: required): offer RTP/SAVP with a=crypto", ErrNotAcceptable, o.proto)
		case reinvite && prev != nil:
			return nil, fmt.Errorf("%w: a re-INVITE may not turn SRTP off", ErrNotAcceptable)
		}
		return nil, nil // plain RTP; best-effort crypto lines we could not use are ignored
	}
	if reinvite && prev == nil {
		return nil, fmt.Errorf("%w: a re-INVITE may not turn SRTP on", ErrNotAcceptable)
	}
	if prev != nil && prev.remote.SameKey(*picked) {
		local := prev.local
		local.Tag = picked.Tag
		return &sdes{local: local, remote: *picked}, nil
	}
	local, err := media.NewCrypto(picked.Tag, picked.Suite)
	if err != nil {
		return nil, err
	}
	return &sdes{local: local, remote: *picked}, nil
}

// offerCrypto is what we put in a late-offer 200 under SRTPRequired: one
// line per suite we support, each with its own fresh key.
func offerCrypto() ([]media.Crypto, error) {
	out := make([]media.Crypto, 0, len(media.SRTPSuites))
	for i, s := range media.SRTPSuites {
		c, err := media.NewCrypto(i+1, s)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// answerSRTP checks the caller's SRTP answer (from the ACK) against what
// we offered: one a=crypto line with a tag and suite we offered.
func answerSRTP(a offer, offered []media.Crypto) (*sdes, error) {
	if len(offered) == 0 {
		if secureProto(a.proto) {
			return nil, fmt.Errorf("%w: answer is %s to our plain RTP/AVP offer", ErrNotAcceptable, a.proto)
		}
		return nil, nil
	}
	if !secureProto(a.proto) {
		return nil, fmt.Errorf("%w: answer is %s to our RTP/SAVP offer (sip.srtp: required)", ErrNotAcceptable, a.proto)
	}
	if len(a.cryptos) != 1 {
		return nil, fmt.Errorf("%w: answer has %d a=crypto lines, want one", ErrNotAcceptable, len(a.cryptos))
	}
	c, err := media.ParseCrypto(a.cryptos[0])
	if err != nil {
		return nil, fmt.Errorf("%w: answer's a=crypto:%s: %w", ErrNotAcceptable, shortCrypto(a.cryptos[0]), err)
	}
	for _, o := range offered {
		if o.Tag == c.Tag {
			if o.Suite != c.Suite {
				return nil, fmt.Errorf("%w: answer's a=crypto tag %d is %s, we offered %s", ErrNotAcceptable, c.Tag, c.Suite, o.Suite)
			}
			return &sdes{local: o, remote: c}, nil
		}
	}
	return nil, fmt.Errorf("%w: answer's a=crypto tag %d was not offered", ErrNotAcceptable, c.Tag)
}

func suiteRank(s media.Suite) int {
	for i, p := range media.SRTPSuites {
		if p == s {
			return i
		}
	}
	return len(media.SRTPSuites)
}

// shortCrypto is an a=crypto value for logs and Warning headers without
// its key: keys never reach a log.
func shortCrypto(v string) string {
	f := strings.Fields(v)
	if len(f) >= 2 {
		return f[0] + " " + f[1]
	}
	if len(v) > 16 {
		return v[:16] + "…"
	}
	return v
}
