package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"

	"github.com/hotline-ivr/hotline/calls"
	"github.com/hotline-ivr/hotline/store"
	"github.com/hotline-ivr/hotline/web"
)

func runServe(ctx context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "serve", "[--config FILE] [--http ADDR] [--sip ADDR] [--data DIR]")
	configPath := fs.String("config", "", "YAML config file (embedded defaults when empty)")
	httpAddr := fs.String("http", "", "HTTP listen address, overrides http.addr")
	sipAddr := fs.String("sip", "", "SIP listen address, overrides sip.addr")
	dataDir := fs.String("data", "", "data directory, overrides data_dir")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(c, *configPath)
	if err != nil {
		return err
	}
	override(&cfg.HTTP.Addr, *httpAddr)
	override(&cfg.SIP.Addr, *sipAddr)
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "sip" && f.Value.String() == "" {
			cfg.SIP.Enabled = false // --sip "": no phone channel
		}
	})
	override(&cfg.DataDir, *dataDir)
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(c.stderr, cfg.Log)

	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	db, err := store.Open(cfg.Path("hotline.db"))
	if err != nil {
		return err
	}
	defer db.Close()

	srv := web.New(web.WithLogger(log), web.WithVersion(version))
	srv.AddReadiness("database", db.PingContext)
	sp, err := startSpeech(ctx, cfg, srv, log)
	if err != nil {
		return err
	}
	defer sp.Close() // after the prerender below has stopped: stops the Festival server
	kb, au, err := mountKnowledge(ctx, cfg, db, srv, sp.Cache, log)
	if err != nil {
		return err
	}
	defer kb.Close()
	ap, err := mountAppeals(ctx, cfg, db, srv, au, log)
	if err != nil {
		return err
	}
	defer ap.Close()
	bs, err := mountChat(ctx, log, srv, kb, ap.Service, ap.Center, chatConfigFrom(cfg))
	if err != nil {
		return err
	}
	defer bs.Close() // before ap.Close: ending chats saves their transcripts
	callStore, err := mountCalls(ctx, db, srv, au)
	if err != nil {
		return err
	}
	links := &callLinks{Bridges: calls.NewBridges(), Center: ap.Center, Hooks: ap.Hooks, Log: log.With("component", "calls"),
		MaxHold: cfg.Queues.MaxHold}
	if cfg.SIP.Enabled {
		ph, err := startPhone(ctx, cfg, srv, callStore, sp.Cache, bs, ap, links, log)
		if err != nil {
			return err
		}
		defer ph.Close() // first: calls in progress still use the bot, appeals and speech
	} else {
		log.Info("phone calls over SIP are off (sip.enabled: false or --sip \"\")")
	}
	if cfg.WebRTC.Enabled {
		app, err := startWebRTC(cfg, srv, callStore, sp.Cache, bs, au, ap, links, log)
		if err != nil {
			return err
		}
		defer app.Close() // like the phone: calls end before the bot and appeals stop
		mountCallToChat(srv.API(), app, callStore, bs.Chat, log.With("component", "webrtc"))
	} else {
		log.Info("in-app calls over WebRTC are off (webrtc.enabled: false)")
	}

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http listen: %w", err)
	}
	log.Info("hotline started", "version", version, "http", ln.Addr().String(), "data_dir", cfg.DataDir)
	err = srv.Serve(ctx, ln, cfg.HTTP.ShutdownTimeout)
	log.Info("hotline stopped")
	return err
}

func override(dst *string, flagValue string) {
	if flagValue != "" {
		*dst = flagValue
	}
}
