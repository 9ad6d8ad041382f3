// Command sipload places SIP calls with real-time RTP against a Hotline
// server (or any SIP server answering with audio) and reports set-up
// times, packet loss and late packets, and, with -audio, the bot's
// voice-to-voice latency measured from packet timestamps. It stops by
// itself: after -total calls or -max-duration, whichever comes first.
//
//	sipload -target 127.0.0.1:5060 -calls 10 -total 10 -codec g722 \
//	        -audio question.wav -dtmf 2 -json out.json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/sipload"
)

func main() {
	var cfg sipload.Config
	flag.StringVar(&cfg.Target, "target", "127.0.0.1:5060", "SIP server ip:port (UDP)")
	flag.IntVar(&cfg.Calls, "calls", 1, fmt.Sprintf("concurrent calls (at most %d)", sipload.MaxConcurrent))
	flag.IntVar(&cfg.Total, "total", 0, "calls in all (default: -calls)")
	flag.Float64Var(&cfg.Rate, "rate", 10, "call attempts per second")
	flag.StringVar(&cfg.Codec, "codec", "g722", "g722 or pcmu")
	wav := flag.String("audio", "", "WAV file: the caller's question (voice-to-voice mode)")
	loop := flag.String("loop", "", "WAV file streamed in a loop for the hold time (media mode)")
	flag.StringVar(&cfg.DTMF, "dtmf", "", "keys pressed first (RFC 4733), e.g. 2")
	flag.DurationVar(&cfg.DTMFDelay, "dtmf-delay", 1500*time.Millisecond, "wait after the answer before the keys")
	flag.DurationVar(&cfg.Hold, "hold", 10*time.Second, "call length without -audio")
	flag.DurationVar(&cfg.ReplyTimeout, "reply-timeout", 30*time.Second, "longest wait for the bot to speak or go quiet")
	flag.DurationVar(&cfg.MaxDuration, "max-duration", 10*time.Minute, "stop the run after this (cap 30m)")
	jsonOut := flag.String("json", "", "write the full report (every call) as JSON to this file")
	verbose := flag.Bool("v", false, "log failed calls")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	var err error
	if cfg.Question, err = readWAV(*wav); err != nil {
		fail(err)
	}
	if cfg.Loop, err = readWAV(*loop); err != nil {
		fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := sipload.Run(ctx, cfg)
	if err != nil {
		fail(err)
	}
	rep.Markdown(os.Stdout)
	if *jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			fail(err)
		}
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			fail(err)
		}
	}
	if rep.Summary.Answered == 0 {
		os.Exit(1)
	}
}

func readWAV(path string) (audio.Frame, error) {
	if path == "" {
		return audio.Frame{}, nil
	}
	pcm, info, err := audio.ReadWAVFile(path)
	if err != nil {
		return audio.Frame{}, fmt.Errorf("%s: %w", path, err)
	}
	return audio.Frame{Rate: info.Rate, Samples: pcm}, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sipload:", err)
	os.Exit(2)
}
