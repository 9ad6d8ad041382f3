package config

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Appeals configures the appeals database and its notifications.
type Appeals struct {
	// EncryptionKey seals callers' contacts (AES-256): 32 bytes in base64
	// or hex. Empty: cmd/hotline generates one into data_dir on first start.
	EncryptionKey   string            `yaml:"encryption_key"`
	EncryptionKeyID string            `yaml:"encryption_key_id"`
	OldKeys         map[string]string `yaml:"old_keys"`
	// LookupKey keys the phone hash; it must outlive key rotations.
	LookupKey          string        `yaml:"lookup_key"`
	ProcessingDays     int           `yaml:"processing_days"`
	ApprovalDays       int           `yaml:"approval_days"`
	EscalationInterval time.Duration `yaml:"escalation_interval"`
	Holidays           []string      `yaml:"holidays"`
	WorkingDays        []string      `yaml:"working_days"`
	Webhooks           []Webhook     `yaml:"webhooks"`
	SMS                SMS           `yaml:"sms"`
}

// Webhook is one receiver of appeal events.
type Webhook struct {
	URL    string   `yaml:"url"`
	Secret string   `yaml:"secret"`
	Events []string `yaml:"events"`
}

// SMS is the SMS gateway; an empty URL disables SMS.
type SMS struct {
	URL    string `yaml:"url"`
	Token  string `yaml:"token"`
	Sender string `yaml:"sender"`
}

// Queues configures the human queues.
type Queues struct {
	Holidays      map[string]string `yaml:"holidays"`
	OverflowAfter time.Duration     `yaml:"overflow_after"`
	ReferURI      map[string]string `yaml:"refer_uri"`
	// MaxHold is how long a voice caller without a REFER address holds
	// for an agent in the desk before they are offered a callback
	// (default 10m).
	MaxHold time.Duration `yaml:"max_hold"`
}

// Desk configures the agent desk.
type Desk struct {
	OfferTimeout    time.Duration `yaml:"offer_timeout"`
	DisconnectGrace time.Duration `yaml:"disconnect_grace"`
	Origins         []string      `yaml:"origins"`
}

// Names the handoff and appeal packages define; config stays a leaf
// package, so they are repeated here for validation only.
var (
	queueNames    = []string{"general", "tech", "social", "business", "abroad"}
	webhookEvents = []string{"appeal.created", "appeal.status_changed", "appeal.escalated"}
)

// validateAppeals checks the appeals, queues and desk sections.
func (c *Config) validateAppeals(bad func(key, format string, args ...any)) {
	a := c.Appeals
	if a.EncryptionKey != "" && !isKey(a.EncryptionKey) {
		bad("appeals.encryption_key", "must be 32 bytes in base64 or hex (openssl rand -base64 32), or empty to generate one in the data directory")
	}
	if a.LookupKey != "" && !isKey(a.LookupKey) {
		bad("appeals.lookup_key", "must be 32 bytes in base64 or hex (openssl rand -base64 32), or empty to generate one in the data directory")
	}
	if !isKeyID(a.EncryptionKeyID) {
		bad("appeals.encryption_key_id", "%q must be a short name without spaces (for example k1)", a.EncryptionKeyID)
	}
	for id, k := range a.OldKeys {
		if !isKeyID(id) {
			bad("appeals.old_keys", "key id %q must be a short name without spaces", id)
		}
		if id == a.EncryptionKeyID {
			bad("appeals.old_keys", "%q is also the active encryption_key_id", id)
		}
		if !isKey(k) {
			bad("appeals.old_keys."+id, "must be 32 bytes in base64 or hex")
		}
	}
	if a.ProcessingDays < 1 || a.ProcessingDays > 365 {
		bad("appeals.processing_days", "must be between 1 and 365 working days, got %d", a.ProcessingDays)
	}
	if a.ApprovalDays < 1 || a.ApprovalDays > 365 {
		bad("appeals.approval_days", "must be between 1 and 365 working days, got %d", a.ApprovalDays)
	}
	if a.EscalationInterval < time.Second {
		bad("appeals.escalation_interval", "must be at least 1s, got %s", a.EscalationInterval)
	}
	for _, d := range a.Holidays {
		if !isDate(d) {
			bad("appeals.holidays", "%q is not a date YYYY-MM-DD", d)
		}
	}
	for _, d := range a.WorkingDays {
		if !isDate(d) {
			bad("appeals.working_days", "%q is not a date YYYY-MM-DD", d)
		}
	}
	seen := map[string]bool{}
	for i, w := range a.Webhooks {
		key := fmt.Sprintf("appeals.webhooks[%d]", i)
		if !isHTTPURL(w.URL) {
			bad(key+".url", "%q is not an http:// or https:// URL", w.URL)
		}
		if seen[w.URL] {
			bad(key+".url", "%q is listed twice", w.URL)
		}
		seen[w.URL] = true
		if len(w.Secret) < 16 {
			bad(key+".secret", "needs at least 16 characters (receivers check the signature with it)")
		}
		for _, ev := range w.Events {
			if !slices.Contains(webhookEvents, ev) {
				bad(key+".events", "%q is not one of %s", ev, strings.Join(webhookEvents, ", "))
			}
		}
	}
	if a.SMS.URL != "" {
		if !isHTTPURL(a.SMS.URL) {
			bad("appeals.sms.url", "%q is not an http:// or https:// URL", a.SMS.URL)
		}
		if a.SMS.Sender == "" {
			bad("appeals.sms.sender", "must be set when appeals.sms.url is")
		}
	}

	q := c.Queues
	for d, hours := range q.Holidays {
		if !isDate(d) {
			bad("queues.holidays", "%q is not a date YYYY-MM-DD", d)
		}
		if !isHours(hours) {
			bad("queues.holidays."+d, "%q is not \"closed\" or HH:MM-HH:MM", hours)
		}
	}
	if q.MaxHold < 0 {
		bad("queues.max_hold", "must not be negative, got %s", q.MaxHold)
	}
	if q.OverflowAfter < 0 {
		bad("queues.overflow_after", "must not be negative, got %s", q.OverflowAfter)
	}
	for name, uri := range q.ReferURI {
		if !slices.Contains(queueNames, name) {
			bad("queues.refer_uri", "unknown queue %q (%s)", name, strings.Join(queueNames, ", "))
		}
		if uri != "" && !strings.HasPrefix(uri, "sip:") && !strings.HasPrefix(uri, "sips:") && !strings.HasPrefix(uri, "tel:") {
			bad("queues.refer_uri."+name, "%q is not a sip:, sips: or tel: URI", uri)
		}
	}

	d := c.Desk
	if d.OfferTimeout < 5*time.Second || d.OfferTimeout > 5*time.Minute {
		bad("desk.offer_timeout", "must be between 5s and 5m, got %s", d.OfferTimeout)
	}
	if d.DisconnectGrace < 0 || d.DisconnectGrace > 5*time.Minute {
		bad("desk.disconnect_grace", "must be between 0 and 5m, got %s", d.DisconnectGrace)
	}
	for _, o := range d.Origins {
		if strings.TrimSpace(o) == "" || strings.Contains(o, "/") {
			bad("desk.origins", "%q must be a host pattern such as desk.example.org or *.example.org", o)
		}
	}
}

// isKey mirrors appeal.ParseKey: 32 bytes in hex or base64 (standard or URL,
// padded or not).
func isKey(s string) bool {
	s = strings.TrimSpace(s)
	for _, dec := range []func(string) ([]byte, error){
		hex.DecodeString, base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString,
	} {
		if b, err := dec(s); err == nil && len(b) == 32 {
			return true
		}
	}
	return false
}

func isKeyID(s string) bool {
	return s != "" && len(s) <= 32 && !strings.ContainsAny(s, " \t\n")
}

func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// isHours accepts what handoff.ParseSpan does: "closed" or HH:MM-HH:MM
// (24:00 allowed as the end), opening before closing.
func isHours(s string) bool {
	s = strings.TrimSpace(s)
	if s == "closed" {
		return true
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return false
	}
	clock := func(v string) (time.Duration, bool) {
		v = strings.TrimSpace(v)
		if v == "24:00" {
			return 24 * time.Hour, true
		}
		t, err := time.Parse("15:04", v)
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, err == nil
	}
	open, ok1 := clock(a)
	closeAt, ok2 := clock(b)
	return ok1 && ok2 && closeAt > open
}
