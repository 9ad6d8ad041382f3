package webrtc

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CallToken is what an app receives before it may place a call.
type CallToken struct {
	Token      string      `json:"token"`
	CallID     string      `json:"call_id"`
	ExpiresAt  time.Time   `json:"expires_at"`
	ICEServers []ICEServer `json:"ice_servers"`
}

// claims are the signed contents of a call token.
type claims struct {
	Subject string `json:"sub"`
	CallID  string `json:"cid"`
	Expires int64  `json:"exp"` // unix seconds
}

// tokenPrefix versions the format so a future change cannot be confused
// with this one.
const tokenPrefix = "hct1."

var b64 = base64.RawURLEncoding

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return b64.EncodeToString(b[:])
}

func (s *Server) sign(cl claims) string {
	payload, _ := json.Marshal(cl)
	body := tokenPrefix + b64.EncodeToString(payload)
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(body))
	return body + "." + b64.EncodeToString(m.Sum(nil))
}

// parseToken checks the signature and, unless allowExpired, the expiry.
// Expired tokens still identify an existing call for PATCH and DELETE,
// since calls outlive the few minutes a token may start one.
func (s *Server) parseToken(tok string, allowExpired bool) (claims, error) {
	var cl claims
	body, sig, ok := cutLast(tok, ".")
	if !ok || !strings.HasPrefix(body, tokenPrefix) {
		return cl, ErrBadToken
	}
	got, err := b64.DecodeString(sig)
	if err != nil {
		return cl, ErrBadToken
	}
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(body))
	if !hmac.Equal(got, m.Sum(nil)) {
		return cl, ErrBadToken
	}
	payload, err := b64.DecodeString(body[len(tokenPrefix):])
	if err != nil || json.Unmarshal(payload, &cl) != nil || cl.CallID == "" || cl.Subject == "" {
		return cl, ErrBadToken
	}
	if !allowExpired && !s.cfg.now().Before(time.Unix(cl.Expires, 0)) {
		return cl, ErrTokenExpired
	}
	return cl, nil
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// IssueToken makes a short-lived, single-use token for subject (a user or
// app id, already authenticated by the caller of this method).
func (s *Server) IssueToken(subject string) (CallToken, error) {
	if subject == "" {
		return CallToken{}, fmt.Errorf("%w: empty subject", ErrBadToken)
	}
	now := s.cfg.now()
	exp := now.Add(s.cfg.tokenTTL).Truncate(time.Second)
	cl := claims{Subject: subject, CallID: newID(), Expires: exp.Unix()}
	return CallToken{
		Token:      s.sign(cl),
		CallID:     cl.CallID,
		ExpiresAt:  exp.UTC(),
		ICEServers: s.iceServersFor(subject, now),
	}, nil
}

// iceServersFor adds coturn REST-API credentials (username "expiry:subject",
// password base64(HMAC-SHA1(secret, username))) valid a little longer than a
// call may reasonably last.
func (s *Server) iceServersFor(subject string, now time.Time) []ICEServer {
	out := append([]ICEServer{}, s.cfg.iceServers...)
	if len(s.cfg.turnSecret) > 0 && len(s.cfg.turnURLs) > 0 {
		user := strconv.FormatInt(now.Add(12*time.Hour).Unix(), 10) + ":" + subject
		m := hmac.New(sha1.New, s.cfg.turnSecret)
		m.Write([]byte(user))
		out = append(out, ICEServer{URLs: s.cfg.turnURLs, Username: user,
			Credential: base64.StdEncoding.EncodeToString(m.Sum(nil))})
	}
	return out
}

func (s *Server) isUsedLocked(callID string) bool {
	_, ok := s.used[callID]
	return ok
}

// claimLocked marks a token's call id used. Entries are kept until the token
// would have expired anyway, then pruned.
func (s *Server) claimLocked(cl claims) error {
	now := s.cfg.now()
	for id, exp := range s.used {
		if now.After(exp) {
			delete(s.used, id)
		}
	}
	if _, ok := s.used[cl.CallID]; ok {
		return ErrTokenReused
	}
	s.used[cl.CallID] = time.Unix(cl.Expires, 0).Add(time.Second)
	return nil
}
