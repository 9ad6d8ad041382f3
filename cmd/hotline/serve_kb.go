package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/hotline-ivr/hotline/auth"
	"github.com/hotline-ivr/hotline/config"
	"github.com/hotline-ivr/hotline/knowledge"
	"github.com/hotline-ivr/hotline/knowledge/kbapi"
	"github.com/hotline-ivr/hotline/tts"
	"github.com/hotline-ivr/hotline/web"
)

// mountKnowledge opens accounts and the knowledge base on db, mounts the
// login API, the knowledge base API and the web editor on srv, and makes
// sure somebody can log in. The caller closes the returned knowledge
// service; the accounts service guards the other APIs. Editing an article
// drops its cached speech; the editor's play button speaks through speech.
func mountKnowledge(ctx context.Context, cfg *config.Config, db *sql.DB, srv *web.Server, speech *tts.Cache, log *slog.Logger) (*knowledge.Service, *auth.Service, error) {
	au, err := auth.Open(ctx, db,
		auth.WithLogger(log.With("component", "auth")),
		auth.WithInitialPasswordFile(cfg.Path("initial-admin-password")))
	if err != nil {
		return nil, nil, fmt.Errorf("accounts: %w", err)
	}
	if _, err := au.Bootstrap(ctx); err != nil { // logs the file's path, never the password
		return nil, nil, fmt.Errorf("accounts: %w", err)
	}
	kb, err := knowledge.Open(ctx, db, cfg.Path("kb.bleve"), knowledge.WithLogger(log),
		knowledge.WithOnChange(func(id, _ string) { speech.InvalidateSource(id) }))
	if err != nil {
		return nil, nil, fmt.Errorf("knowledge base: %w", err)
	}
	// A search that runs end to end proves the index is open and answering.
	srv.AddReadiness("knowledge", func(ctx context.Context) error {
		_, err := kb.Search(ctx, "hotline", knowledge.SearchOptions{Lang: "ru", Limit: 1})
		return err
	})
	api := srv.API()
	au.Register(api)
	auth.RegisterUI(srv.Router())
	kbapi.Register(api, kb, au, kbapi.WithLogger(log.With("component", "kbapi")), kbapi.WithSpeaker(speech))
	kbapi.RegisterUI(srv.Router())
	kbapi.RegisterPublic(srv.Router(), kb) // /kb/:lang/:id, linked from the bot's answers
	return kb, au, nil
}
