// Command hotline is the one Hotline binary: the service and its tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/hotline-ivr/hotline/config"
	"github.com/hotline-ivr/hotline/internal/redact"
)

// cli is what every sub-command gets from the process: its streams and
// environment, so tests can run commands in-process.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
}

type command struct {
	name, summary string
	run           func(ctx context.Context, c *cli, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the hotline service (HTTP, SIP, bot)", runServe},
		{"transcribe", "print what speech recognition hears in WAV files", runTranscribe},
		{"ask", "answer questions from the embedded knowledge base", runAsk},
		{"say", "speak text into a WAV file", runSay},
		{"models", "list or download speech recognition models", runModels},
		{"users", "manage accounts (add, passwd, list)", runUsers},
		{"version", "print the version", runVersion},
	}
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ()}
	err := run(ctx, c, os.Args[1:])
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hotline:", err)
		}
		os.Exit(exitCode(err))
	}
}

func run(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(c.stderr)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, cmd := range commands() {
		if cmd.name == args[0] {
			return cmd.run(ctx, c, args[1:])
		}
	}
	usage(c.stderr)
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: hotline <command> [flags]\n\ncommands:")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(w, "\nRun 'hotline <command> -h' for the flags of a command.")
}

func exitCode(err error) int {
	if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

var errUsage = errors.New("usage")

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(c *cli, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: hotline %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags wraps flag errors so they exit with the usage status.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

func loadConfig(c *cli, path string) (*config.Config, error) {
	return config.Load(path, c.environ)
}

// newLogger builds the process logger; every handler masks personal data.
func newLogger(w io.Writer, cfg config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if cfg.Format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(redact.NewHandler(h))
}

func runVersion(_ context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "version", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, "hotline", version)
	return nil
}
