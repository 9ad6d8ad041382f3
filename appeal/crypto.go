package appeal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Keyring seals contacts with AES-256-GCM. New contacts use the active key;
// older keys stay to open what they sealed, so keys can be rotated without
// rewriting the database. The lookup key makes the phone hash.
type Keyring struct {
	active string
	aeads  map[string]cipher.AEAD
	lookup []byte
}

// NewKeyring builds a keyring from 32-byte keys by id. lookupKey keys the
// phone hash; when nil it is derived from the active key, and then it must
// be set explicitly before the active key changes (or old appeals stop
// matching their callers' phones).
func NewKeyring(active string, keys map[string][]byte, lookupKey []byte) (*Keyring, error) {
	k := &Keyring{active: active, aeads: make(map[string]cipher.AEAD, len(keys))}
	for id, key := range keys {
		if len(key) != 32 {
			return nil, fmt.Errorf("%w: key %q has %d bytes, want 32", ErrInvalid, id, len(key))
		}
		if id == "" || strings.ContainsAny(id, " \t") {
			return nil, fmt.Errorf("%w: bad key id %q", ErrInvalid, id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("appeal: key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("appeal: key %q: %w", id, err)
		}
		k.aeads[id] = aead
	}
	activeKey, ok := keys[active]
	if !ok {
		return nil, fmt.Errorf("%w: active key %q", ErrNoKey, active)
	}
	if lookupKey == nil {
		m := hmac.New(sha256.New, activeKey)
		m.Write([]byte("hotline appeals phone lookup v1"))
		lookupKey = m.Sum(nil)
	}
	k.lookup = append([]byte(nil), lookupKey...)
	return k, nil
}

// ParseKey decodes a key given as base64 (standard or URL) or hex.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, dec := range []func(string) ([]byte, error){
		hex.DecodeString, base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString,
	} {
		if b, err := dec(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: the encryption key must be 32 bytes in base64 or hex", ErrInvalid)
}

// seal encrypts the contact; the appeal number is authenticated data, so a
// ciphertext copied to another row does not open.
func (k *Keyring) seal(number string, c Contact) ([]byte, string, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return nil, "", err
	}
	aead := k.aeads[k.active]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", fmt.Errorf("appeal: nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plain, []byte(number)), k.active, nil
}

func (k *Keyring) open(number, keyID string, sealed []byte) (Contact, error) {
	var c Contact
	if len(sealed) == 0 {
		return c, nil
	}
	aead, ok := k.aeads[keyID]
	if !ok {
		return c, fmt.Errorf("%w: %q", ErrNoKey, keyID)
	}
	ns := aead.NonceSize()
	if len(sealed) < ns {
		return c, fmt.Errorf("appeal: sealed contact of %s is truncated", number)
	}
	plain, err := aead.Open(nil, sealed[:ns], sealed[ns:], []byte(number))
	if err != nil {
		return c, fmt.Errorf("appeal: open contact of %s: %w", number, err)
	}
	return c, json.Unmarshal(plain, &c)
}

// PhoneHash is the keyed hash of a normalised phone number ("" for none).
func (k *Keyring) PhoneHash(phone string) string {
	p := NormalizePhone(phone)
	if p == "" {
		return ""
	}
	m := hmac.New(sha256.New, k.lookup)
	m.Write([]byte(p))
	return hex.EncodeToString(m.Sum(nil))
}

func (k *Keyring) mac(b []byte) string {
	m := hmac.New(sha256.New, k.lookup)
	m.Write([]byte("payload\x00"))
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// NormalizePhone keeps the digits of a phone number and writes Russian
// numbers as 7XXXXXXXXXX (8XXXXXXXXXX and ten-digit forms included).
func NormalizePhone(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	switch {
	case len(d) == 11 && d[0] == '8':
		return "7" + d[1:]
	case len(d) == 10 && d[0] == '9':
		return "7" + d
	}
	return d
}
