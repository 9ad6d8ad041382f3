package sip

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

const nonceTTL = 5 * time.Minute

// allowed reports whether a request's source may talk to us.
func (s *Server) allowed(req *sip.Request) bool {
	if len(s.allow) == 0 {
		return true
	}
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap()
	for _, p := range s.allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Nonces are stateless: a timestamp and its HMAC under a per-process key,
// so any retransmission or a second INVITE within the TTL authenticates
// without a nonce table to grow or clean.
func (s *Server) newNonce(now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 16)
	m := hmac.New(sha256.New, s.nonceKey[:])
	m.Write([]byte(ts))
	return ts + "." + hex.EncodeToString(m.Sum(nil)[:12])
}

func (s *Server) nonceValid(n string, now time.Time) bool {
	ts, mac, ok := strings.Cut(n, ".")
	if !ok {
		return false
	}
	m := hmac.New(sha256.New, s.nonceKey[:])
	m.Write([]byte(ts))
	want := hex.EncodeToString(m.Sum(nil)[:12])
	if subtle.ConstantTimeCompare([]byte(mac), []byte(want)) != 1 {
		return false
	}
	sec, err := strconv.ParseInt(ts, 16, 64)
	if err != nil {
		return false
	}
	age := now.Sub(time.Unix(sec, 0))
	return age >= -time.Minute && age <= nonceTTL
}

func newNonceKey() (k [32]byte) {
	_, _ = rand.Read(k[:])
	return k
}

// authenticate checks the Authorization header. It returns nil when
// authentication is off or succeeded, ErrUnauthorized with a challenge to
// send, or ErrBadCredentials.
func (s *Server) authenticate(req *sip.Request, now time.Time) (challenge string, err error) {
	if len(s.users) == 0 {
		return "", nil
	}
	chal := &digest.Challenge{Realm: s.realm, Nonce: s.newNonce(now), Algorithm: "MD5"}
	h := req.GetHeader("Authorization")
	if h == nil {
		return chal.String(), ErrUnauthorized
	}
	creds, err := digest.ParseCredentials(h.Value())
	if err != nil {
		return chal.String(), fmt.Errorf("%w: %v", ErrUnauthorized, err)
	}
	if !s.nonceValid(creds.Nonce, now) || creds.Realm != s.realm {
		return chal.String(), fmt.Errorf("%w: stale or foreign nonce", ErrUnauthorized)
	}
	pass, ok := s.users[creds.Username]
	if !ok {
		return "", fmt.Errorf("%w: unknown user", ErrBadCredentials)
	}
	want, err := digest.Digest(&digest.Challenge{Realm: creds.Realm, Nonce: creds.Nonce, Opaque: creds.Opaque,
		Algorithm: creds.Algorithm, QOP: qopList(creds.QOP)}, digest.Options{
		Method: string(req.Method), URI: creds.URI, Username: creds.Username, Password: pass,
		Cnonce: creds.Cnonce, Count: creds.Nc,
	})
	if err != nil || subtle.ConstantTimeCompare([]byte(want.Response), []byte(creds.Response)) != 1 {
		return "", fmt.Errorf("%w: digest mismatch", ErrBadCredentials)
	}
	return "", nil
}

func qopList(q string) []string {
	if q == "" {
		return nil
	}
	return []string{q}
}
