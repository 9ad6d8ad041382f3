package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/appeal/sms"
	"github.com/hotline-ivr/hotline/appeal/webhook"
	"github.com/hotline-ivr/hotline/auth"
	"github.com/hotline-ivr/hotline/config"
	"github.com/hotline-ivr/hotline/handoff/deskui"
	"github.com/hotline-ivr/hotline/web"
)

// Files in the data directory holding the secrets generated when the
// configuration names none, so that `hotline serve` starts with no setup.
const (
	encryptionKeyFile = "appeals.key"
	lookupKeyFile     = "appeals-lookup.key"
)

// appealsConfigFrom maps the appeals, queues and desk sections to what
// startAppeals needs. Keys the configuration leaves empty come from files
// in the data directory, created on first start.
func appealsConfigFrom(cfg *config.Config, log *slog.Logger) (appealsConfig, error) {
	a := cfg.Appeals
	out := appealsConfig{
		EncryptionKey: a.EncryptionKey, EncryptionKeyID: a.EncryptionKeyID, OldKeys: a.OldKeys,
		LookupKey: a.LookupKey, Holidays: a.Holidays, WorkingDays: a.WorkingDays,
		ProcessingDays: a.ProcessingDays, ApprovalDays: a.ApprovalDays, EscalationEvery: a.EscalationInterval,
		SMS:           sms.Config{URL: a.SMS.URL, Token: a.SMS.Token, Sender: a.SMS.Sender},
		QueueHolidays: cfg.Queues.Holidays, OverflowAfter: cfg.Queues.OverflowAfter, ReferURI: cfg.Queues.ReferURI,
		OfferTimeout: cfg.Desk.OfferTimeout, DisconnectGrace: cfg.Desk.DisconnectGrace, DeskOrigins: cfg.Desk.Origins,
	}
	for _, w := range a.Webhooks {
		out.Webhooks = append(out.Webhooks, webhook.Endpoint{URL: w.URL, Secret: w.Secret, Events: w.Events})
	}
	var err error
	if out.EncryptionKey == "" {
		if out.EncryptionKey, err = keyFile(cfg.Path(encryptionKeyFile), "appeals encryption key", log); err != nil {
			return out, err
		}
	} else if _, statErr := os.Stat(cfg.Path(encryptionKeyFile)); statErr == nil {
		// A configured key wins over the generated one; contacts sealed
		// with the file's key need it among appeals.old_keys.
		log.Warn("appeals.encryption_key is set and a generated key file exists: contacts sealed before need that file's key in appeals.old_keys under their key id",
			"path", cfg.Path(encryptionKeyFile))
	}
	if out.LookupKey == "" {
		if out.LookupKey, err = keyFile(cfg.Path(lookupKeyFile), "appeals phone lookup key", log); err != nil {
			return out, err
		}
	}
	return out, nil
}

// keyFile returns the 32-byte key stored at path, creating it (mode 0600)
// when missing. It logs the path, never the key.
func keyFile(path, what string, log *slog.Logger) (string, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		key := strings.TrimSpace(string(b))
		if _, err := appeal.ParseKey(key); err != nil {
			return "", fmt.Errorf("%s in %s: %w", what, path, err)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.Warn("key file is readable by other users: chmod 600 it", "what", what, "path", path)
		}
		return key, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%s: %w", what, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	key := base64.StdEncoding.EncodeToString(raw)
	// Write a temporary file, then link it into place: the key file appears
	// complete or not at all, and of two processes starting at once the
	// second one reads the first one's key instead of writing its own.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	defer os.Remove(tmp.Name())
	if _, err = tmp.WriteString(key + "\n"); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
	}
	if errors.Is(err, fs.ErrExist) {
		return keyFile(path, what, log)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	log.Warn("generated a new key: back this file up, the appeals cannot be read without it", "what", what, "path", path)
	return key, nil
}

// mountAppeals starts appeals, notifications and queues from the
// configuration, mounts their API and the agent desk at /desk/, and adds
// their readiness check. The caller closes the result after the HTTP
// server has stopped.
func mountAppeals(ctx context.Context, cfg *config.Config, db *sql.DB, srv *web.Server, au *auth.Service, log *slog.Logger) (*appeals, error) {
	acfg, err := appealsConfigFrom(cfg, log)
	if err != nil {
		return nil, err
	}
	ap, err := startAppeals(ctx, log, db, srv.API(), au, acfg)
	if err != nil {
		return nil, err
	}
	// Listing one appeal proves the schema is there and the store answers.
	srv.AddReadiness("appeals", func(ctx context.Context) error {
		_, err := ap.Service.List(ctx, appeal.Filter{Limit: 1})
		return err
	})
	deskui.Register(srv.Router())
	return ap, nil
}
