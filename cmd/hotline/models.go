package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/hotline-ivr/hotline/asr/sphinx"
	"github.com/hotline-ivr/hotline/asr/vosk"
	"github.com/hotline-ivr/hotline/config"
)

// runModels lists the speech models and downloads the official Vosk ones.
func runModels(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(c.stderr, "usage: hotline models list | pull ru|en [--dir DIR]")
		return fmt.Errorf("%w: models needs a sub-command", errUsage)
	}
	switch args[0] {
	case "list":
		return modelsList(c, args[1:])
	case "pull":
		return modelsPull(ctx, c, args[1:])
	}
	return fmt.Errorf("%w: unknown models sub-command %q (list, pull)", errUsage, args[0])
}

func modelsList(c *cli, args []string) error {
	fs := newFlagSet(c, "models list", "[--config FILE]")
	cfgPath := fs.String("config", "", "configuration file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(c, *cfgPath)
	if err != nil {
		return err
	}
	langs := make([]string, 0, len(cfg.ASR.Vosk.Models))
	for l := range cfg.ASR.Vosk.Models {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	fmt.Fprintf(c.stdout, "engine in use: %s\n", cfg.ASR.Engine)
	for _, l := range langs {
		dir := cfg.Path(cfg.ASR.Vosk.Models[l])
		status := "installed"
		if err := vosk.CheckModel(dir); err != nil {
			status = "NOT INSTALLED: " + err.Error() + fmt.Sprintf(" (run 'hotline models pull %s')", l)
		}
		fmt.Fprintf(c.stdout, "vosk   %s  %s  %s\n", l, dir, status)
	}
	status := "installed"
	if e, err := sphinx.New(sphinx.WithModelDir(cfg.ASR.Sphinx.ModelDir), sphinx.WithMaxStreams(1)); err != nil {
		status = "NOT USABLE: " + err.Error()
	} else {
		e.Close()
	}
	fmt.Fprintf(c.stdout, "sphinx en  %s  %s\n", cfg.ASR.Sphinx.ModelDir, status)
	return nil
}

func modelsPull(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		return fmt.Errorf("%w: usage: hotline models pull ru|en [--dir DIR]", errUsage)
	}
	lang := args[0]
	fs := newFlagSet(c, "models pull "+lang, "[--dir DIR] [--config FILE]")
	cfgPath := fs.String("config", "", "configuration file")
	dir := fs.String("dir", "", "folder to install into (default: the folder of asr.vosk.models.<lang>, else data_dir/models)")
	baseURL := fs.String("base-url", vosk.DefaultBaseURL, "where the model archives are published (a mirror)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig(c, *cfgPath)
	if err != nil {
		return err
	}
	info, ok := vosk.Archives[lang]
	if !ok {
		return fmt.Errorf("%w: no official model for %q (ru, en)", errUsage, lang)
	}
	parent := *dir
	if parent == "" {
		parent = defaultModelParent(cfg, lang)
	}
	p := &vosk.Puller{BaseURL: *baseURL, Progress: c.stderr}
	res, err := p.Pull(ctx, lang, parent)
	if err != nil {
		return fmt.Errorf("models pull %s: %w", lang, err)
	}
	switch {
	case !res.Installed:
		fmt.Fprintf(c.stdout, "%s model already installed in %s\n", lang, res.Dir)
	case res.Verified:
		fmt.Fprintf(c.stdout, "%s model installed in %s (SHA-256 %s verified)\n", lang, res.Dir, res.SHA256)
	default:
		fmt.Fprintf(c.stdout, "%s model installed in %s\nSHA-256 %s: not pinned in Hotline; compare it with the one published for %s.zip\n",
			lang, res.Dir, res.SHA256, info.Name)
	}
	if conf := cfg.Path(cfg.ASR.Vosk.Models[lang]); conf != res.Dir {
		fmt.Fprintf(c.stdout, "note: the configuration points asr.vosk.models.%s at %s; set it to %s\n", lang, conf, res.Dir)
	}
	return nil
}

// defaultModelParent is the folder the configuration expects the model in,
// so a pulled model is found without editing the configuration.
func defaultModelParent(cfg *config.Config, lang string) string {
	if d := cfg.ASR.Vosk.Models[lang]; d != "" {
		return filepath.Dir(cfg.Path(d))
	}
	return cfg.Path("models")
}
