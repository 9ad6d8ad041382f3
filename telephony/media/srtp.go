package media

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// Suite is an SRTP crypto suite as SDES spells it in a=crypto (RFC 4568,
// RFC 6188, RFC 7714).
type Suite string

const (
	AES_CM_128_HMAC_SHA1_80 Suite = "AES_CM_128_HMAC_SHA1_80"
	AES_CM_128_HMAC_SHA1_32 Suite = "AES_CM_128_HMAC_SHA1_32"
	AEAD_AES_128_GCM        Suite = "AEAD_AES_128_GCM"
	AES_256_CM_HMAC_SHA1_80 Suite = "AES_256_CM_HMAC_SHA1_80"
	AES_256_CM_HMAC_SHA1_32 Suite = "AES_256_CM_HMAC_SHA1_32"
	AEAD_AES_256_GCM        Suite = "AEAD_AES_256_GCM"
)

// SRTPSuites are the suites we accept, most preferred first: the 80-bit
// HMAC tag of RFC 4568's mandatory suite first (every SDES phone has it),
// the 32-bit tag last (weakest authentication).
var SRTPSuites = []Suite{AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM, AES_256_CM_HMAC_SHA1_80,
	AEAD_AES_256_GCM, AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_32}

type suiteInfo struct {
	profile srtp.ProtectionProfile
	keyLen  int // master key || master salt, bytes
}

var suites = map[Suite]suiteInfo{
	AES_CM_128_HMAC_SHA1_80: {srtp.ProtectionProfileAes128CmHmacSha1_80, 16 + 14},
	AES_CM_128_HMAC_SHA1_32: {srtp.ProtectionProfileAes128CmHmacSha1_32, 16 + 14},
	AEAD_AES_128_GCM:        {srtp.ProtectionProfileAeadAes128Gcm, 16 + 12},
	AES_256_CM_HMAC_SHA1_80: {srtp.ProtectionProfileAes256CmHmacSha1_80, 32 + 14},
	AES_256_CM_HMAC_SHA1_32: {srtp.ProtectionProfileAes256CmHmacSha1_32, 32 + 14},
	AEAD_AES_256_GCM:        {srtp.ProtectionProfileAeadAes256Gcm, 32 + 12},
}

// Supported reports whether we can run this suite.
func (s Suite) Supported() bool { _, ok := suites[s]; return ok }

// minLifetime is the shortest key lifetime we accept: we do not renew
// keys during a call, and 2^20 packets last almost six hours at 50 a
// second, longer than any call.
const minLifetime = 1 << 20

// Crypto is one SDES crypto attribute (a=crypto:<tag> <suite>
// inline:<key||salt>): the master key and salt the attribute's sender
// encrypts with.
type Crypto struct {
	Tag   int
	Suite Suite
	Key   []byte // master key || master salt
}

// NewCrypto makes a crypto attribute with a fresh random master key and
// salt from crypto/rand.
func NewCrypto(tag int, suite Suite) (Crypto, error) {
	si, ok := suites[suite]
	if !ok {
		return Crypto{}, fmt.Errorf("%w: suite %s", ErrUnsupportedCrypto, suite)
	}
	key := make([]byte, si.keyLen)
	if _, err := rand.Read(key); err != nil {
		return Crypto{}, fmt.Errorf("media: srtp key: %w", err)
	}
	return Crypto{Tag: tag, Suite: suite, Key: key}, nil
}

// String is the attribute's value (what follows "a=crypto:").
func (c Crypto) String() string {
	return fmt.Sprintf("%d %s inline:%s", c.Tag, c.Suite, base64.StdEncoding.EncodeToString(c.Key))
}

// SameKey reports whether c and o are the same suite and master key (the
// tag aside): a re-offer that repeats the key keeps the running contexts.
func (c Crypto) SameKey(o Crypto) bool {
	return c.Suite == o.Suite && subtle.ConstantTimeCompare(c.Key, o.Key) == 1
}

// ParseCrypto parses an a=crypto attribute value strictly (its errors
// never quote the key, so they may be logged):
// "<tag> <suite> inline:<base64 key||salt>[|lifetime][|MKI:length]
// [session params]". It refuses (ErrBadCrypto) malformed lines, a key of
// the wrong length or bad base64, and (ErrUnsupportedCrypto) what we do not
// implement: unknown suites, MKI, several keys, key lifetimes under 2^20
// packets, and session parameters other than WSH (a window-size hint)
// — UNENCRYPTED_SRTP and friends would weaken the session, KDR and FEC
// change the transform.
func ParseCrypto(value string) (Crypto, error) {
	f := strings.Fields(value)
	if len(f) < 3 {
		return Crypto{}, fmt.Errorf("%w: want \"<tag> <suite> inline:<key>\", got %d fields", ErrBadCrypto, len(f))
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || len(f[0]) > 9 {
		return Crypto{}, fmt.Errorf("%w: tag %q is not 1-9 digits", ErrBadCrypto, f[0])
	}
	suite := Suite(f[1])
	si, ok := suites[suite]
	if !ok {
		return Crypto{}, fmt.Errorf("%w: unknown suite %s", ErrUnsupportedCrypto, f[1])
	}
	if strings.Contains(f[2], ";") {
		return Crypto{}, fmt.Errorf("%w: several master keys in one line", ErrUnsupportedCrypto)
	}
	method, params, ok := strings.Cut(f[2], ":")
	if !ok || method != "inline" {
		return Crypto{}, fmt.Errorf("%w: key method %q, want inline", ErrBadCrypto, method)
	}
	parts := strings.Split(params, "|")
	if len(parts) > 3 {
		return Crypto{}, fmt.Errorf("%w: %d key parameters, want at most key|lifetime|MKI", ErrBadCrypto, len(parts))
	}
	key, err := decodeKey(parts[0])
	if err != nil {
		return Crypto{}, fmt.Errorf("%w: key is not base64: %v", ErrBadCrypto, err)
	}
	if len(key) != si.keyLen {
		return Crypto{}, fmt.Errorf("%w: key||salt is %d bytes, %s needs %d", ErrBadCrypto, len(key), suite, si.keyLen)
	}
	for i, p := range parts[1:] {
		if strings.Contains(p, ":") { // MKI:length, always last
			if i != len(parts)-2 {
				return Crypto{}, fmt.Errorf("%w: MKI before the lifetime", ErrBadCrypto)
			}
			return Crypto{}, fmt.Errorf("%w: MKI (%s) is not supported", ErrUnsupportedCrypto, p)
		}
		if i != 0 {
			return Crypto{}, fmt.Errorf("%w: two lifetimes", ErrBadCrypto)
		}
		n, err := parseLifetime(p)
		if err != nil {
			return Crypto{}, err
		}
		if n < minLifetime {
			return Crypto{}, fmt.Errorf("%w: key lifetime %s packets is shorter than a call may last (keys are not renewed)", ErrUnsupportedCrypto, p)
		}
	}
	for _, sp := range f[3:] {
		name, _, _ := strings.Cut(sp, "=")
		switch name {
		case "WSH":
			if _, err := strconv.Atoi(strings.TrimPrefix(sp, "WSH=")); err != nil {
				return Crypto{}, fmt.Errorf("%w: bad session parameter %q", ErrBadCrypto, sp)
			}
		case "UNENCRYPTED_SRTP", "UNENCRYPTED_SRTCP", "UNAUTHENTICATED_SRTP":
			return Crypto{}, fmt.Errorf("%w: %s would weaken SRTP", ErrUnsupportedCrypto, name)
		default:
			return Crypto{}, fmt.Errorf("%w: session parameter %q", ErrUnsupportedCrypto, sp)
		}
	}
	return Crypto{Tag: tag, Suite: suite, Key: key}, nil
}

// decodeKey takes standard base64 with or without padding (both occur in
// the wild), nothing else.
func decodeKey(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") {
		return base64.StdEncoding.Strict().DecodeString(s)
	}
	return base64.RawStdEncoding.Strict().DecodeString(s)
}

// parseLifetime reads "2^n" or a decimal packet count.
func parseLifetime(s string) (uint64, error) {
	if e, ok := strings.CutPrefix(s, "2^"); ok {
		n, err := strconv.Atoi(e)
		if err != nil || n < 0 || n > 48 {
			return 0, fmt.Errorf("%w: bad key lifetime %q", ErrBadCrypto, s)
		}
		return 1 << n, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%w: bad key lifetime %q", ErrBadCrypto, s)
	}
	return n, nil
}

// SRTP keys a session: Local protects what we send, Remote authenticates
// and decrypts what the peer sends (its a=crypto). Both must use the
// same suite.
type SRTP struct {
	Local, Remote Crypto
}

// srtpState is the session's SRTP transform. pion's contexts are one-way
// and not safe for concurrent use, so there is one per goroutine that
// uses it: RTP and RTCP decryption run in the two readers, encryption in
// the pacer's tick.
type srtpState struct {
	keys          SRTP
	txRTP, txRTCP *srtp.Context
	rxRTP, rxRTCP *srtp.Context
	txHdr         rtp.Header  // scratch header of the pacer
	rxHdr         rtp.Header  // scratch header of the RTP reader
	rxRTCPHdr     rtcp.Header // scratch header of the RTCP reader
}

// newSRTPState builds the contexts for k. Contexts of prev whose key is
// unchanged are kept, so their rollover counters go on: restarting them
// under the same key would reuse keystream.
func newSRTPState(k SRTP, prev *srtpState) (*srtpState, error) {
	if k.Local.Suite != k.Remote.Suite {
		return nil, fmt.Errorf("%w: local suite %s, remote %s", ErrUnsupportedCrypto, k.Local.Suite, k.Remote.Suite)
	}
	si, ok := suites[k.Local.Suite]
	if !ok {
		return nil, fmt.Errorf("%w: suite %s", ErrUnsupportedCrypto, k.Local.Suite)
	}
	for _, c := range []Crypto{k.Local, k.Remote} {
		if len(c.Key) != si.keyLen {
			return nil, fmt.Errorf("%w: key||salt is %d bytes, %s needs %d", ErrBadCrypto, len(c.Key), c.Suite, si.keyLen)
		}
	}
	st := &srtpState{keys: SRTP{Local: cloneCrypto(k.Local), Remote: cloneCrypto(k.Remote)}}
	mk := func(c Crypto, opts ...srtp.ContextOption) (*srtp.Context, error) {
		keyLen, _ := si.profile.KeyLen()
		return srtp.CreateContext(c.Key[:keyLen], c.Key[keyLen:], si.profile, opts...)
	}
	var err error
	if prev != nil && prev.keys.Local.SameKey(k.Local) {
		st.txRTP, st.txRTCP = prev.txRTP, prev.txRTCP
	} else {
		if st.txRTP, err = mk(k.Local); err != nil {
			return nil, fmt.Errorf("media: srtp: %w", err)
		}
		if st.txRTCP, err = mk(k.Local); err != nil {
			return nil, fmt.Errorf("media: srtp: %w", err)
		}
	}
	if prev != nil && prev.keys.Remote.SameKey(k.Remote) {
		st.rxRTP, st.rxRTCP = prev.rxRTP, prev.rxRTCP
	} else {
		// Replay protection: a captured packet sent again is dropped.
		if st.rxRTP, err = mk(k.Remote, srtp.SRTPReplayProtection(128)); err != nil {
			return nil, fmt.Errorf("media: srtp: %w", err)
		}
		if st.rxRTCP, err = mk(k.Remote, srtp.SRTCPReplayProtection(128)); err != nil {
			return nil, fmt.Errorf("media: srtp: %w", err)
		}
	}
	return st, nil
}

func cloneCrypto(c Crypto) Crypto {
	c.Key = append([]byte(nil), c.Key...)
	return c
}

// encryptRTP protects a marshalled RTP packet in place; pkt must have
// room for the tag (cap ≥ len + 16). The reader and the pacer never share
// a context.
func (st *srtpState) encryptRTP(pkt []byte) ([]byte, error) {
	return st.txRTP.EncryptRTP(pkt, pkt, &st.txHdr)
}

// decryptRTP authenticates and decrypts an SRTP packet in place.
func (st *srtpState) decryptRTP(pkt []byte) ([]byte, error) {
	return st.rxRTP.DecryptRTP(pkt, pkt, &st.rxHdr)
}

func (st *srtpState) encryptRTCP(pkt []byte) ([]byte, error) {
	return st.txRTCP.EncryptRTCP(nil, pkt, nil)
}

// decryptRTCP decrypts into dst (RTCP is rare: no in-place trickery).
func (st *srtpState) decryptRTCP(dst, pkt []byte) ([]byte, error) {
	return st.rxRTCP.DecryptRTCP(dst, pkt, &st.rxRTCPHdr)
}
