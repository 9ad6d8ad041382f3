// Package config loads Hotline's one YAML configuration: embedded defaults,
// then an optional file, then HOTLINE_* environment variables, then
// validation with messages an operator can act on.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed default.yaml
var defaultYAML []byte

// Config is the whole service configuration.
type Config struct {
	Log     Log     `yaml:"log"`
	HTTP    HTTP    `yaml:"http"`
	SIP     SIP     `yaml:"sip"`
	DataDir string  `yaml:"data_dir"`
	ASR     ASR     `yaml:"asr"`
	Appeals Appeals `yaml:"appeals"`
	Queues  Queues  `yaml:"queues"`
	Desk    Desk    `yaml:"desk"`
	Bot     Bot     `yaml:"bot"`
	Chat    Chat    `yaml:"chat"`
	LLM     LLM     `yaml:"llm"`
	TTS     TTS     `yaml:"tts"`
	WebRTC  WebRTC  `yaml:"webrtc"`
}

type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

type HTTP struct {
	Addr            string        `yaml:"addr"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

type ASR struct {
	Engine     string        `yaml:"engine"`
	MaxStreams int           `yaml:"max_streams"`
	StreamWait time.Duration `yaml:"stream_wait"`
	Vosk       Vosk          `yaml:"vosk"`
	Sphinx     Sphinx        `yaml:"sphinx"`
	VAD        VAD           `yaml:"vad"`
}

type Vosk struct {
	Models map[string]string `yaml:"models"`
}

type Sphinx struct {
	ModelDir string `yaml:"model_dir"`
}

type VAD struct {
	ThresholdDB float64       `yaml:"threshold_db"`
	MinSpeech   time.Duration `yaml:"min_speech"`
	Hangover    time.Duration `yaml:"hangover"`
	// EarlyEndpoint ends a caller's turn after this short pause when what
	// was said is complete (a whole question, a valid number, yes/no);
	// otherwise the turn waits for Hangover. 0 disables it.
	EarlyEndpoint time.Duration `yaml:"early_endpoint"`
}

// Default returns the embedded defaults.
func Default() *Config {
	var c Config
	if err := decode(defaultYAML, &c); err != nil {
		panic("config: embedded defaults are invalid: " + err.Error())
	}
	return &c
}

// Load returns the defaults overlaid with the file at path (if path is not
// empty) and with the environment, validated.
func Load(path string, environ []string) (*Config, error) {
	c := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := decode(data, c); err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(c, environ); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

var yamlFieldNotFound = regexp.MustCompile(`line (\d+): field (\S+) not found in type config\.(\w+)`)

func decode(data []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(c)
	if err == nil || errors.Is(err, io.EOF) { // an empty file overrides nothing
		return nil
	}
	msg := yamlFieldNotFound.ReplaceAllString(err.Error(), "line $1: unknown key \"$2\" in section $3")
	return fmt.Errorf("%w: %s", ErrInvalid, msg)
}

// Path resolves p against the data directory unless it is absolute.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.DataDir, p)
}

// Validate reports every problem at once so an operator fixes them in one go.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q is not one of text, json", c.Log.Format)
	}
	if err := checkAddr(c.HTTP.Addr); err != nil {
		bad("http.addr", "%v", err)
	}
	if c.HTTP.ShutdownTimeout <= 0 {
		bad("http.shutdown_timeout", "must be positive, got %s", c.HTTP.ShutdownTimeout)
	}
	c.validateSIP(bad)
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data_dir", "must not be empty")
	}
	switch c.ASR.Engine {
	case "vosk", "sphinx":
	default:
		bad("asr.engine", "%q is not one of vosk, sphinx", c.ASR.Engine)
	}
	if c.ASR.MaxStreams < 1 {
		bad("asr.max_streams", "must be at least 1, got %d", c.ASR.MaxStreams)
	}
	if c.ASR.StreamWait < 0 {
		bad("asr.stream_wait", "must not be negative")
	}
	for lang := range c.ASR.Vosk.Models {
		if lang != "ru" && lang != "en" {
			bad("asr.vosk.models", "unknown language %q (ru, en)", lang)
		}
	}
	if c.ASR.VAD.ThresholdDB <= 0 || c.ASR.VAD.ThresholdDB > 60 {
		bad("asr.vad.threshold_db", "must be in (0, 60] dB, got %g", c.ASR.VAD.ThresholdDB)
	}
	if c.ASR.VAD.MinSpeech < 0 || c.ASR.VAD.MinSpeech > 2*time.Second {
		bad("asr.vad.min_speech", "must be between 0 and 2s, got %s", c.ASR.VAD.MinSpeech)
	}
	if c.ASR.VAD.Hangover < 100*time.Millisecond || c.ASR.VAD.Hangover > 10*time.Second {
		bad("asr.vad.hangover", "must be between 100ms and 10s, got %s", c.ASR.VAD.Hangover)
	}
	if e := c.ASR.VAD.EarlyEndpoint; e != 0 && (e < 100*time.Millisecond || e >= c.ASR.VAD.Hangover) {
		bad("asr.vad.early_endpoint", "must be 0 (off) or at least 100ms and below asr.vad.hangover (%s), got %s", c.ASR.VAD.Hangover, e)
	}
	c.validateAppeals(bad)
	c.validateBot(bad)
	c.validateLLM(bad)
	c.validateTTS(bad)
	c.validateWebRTC(bad)
	if len(errs) > 0 {
		return fmt.Errorf("%w:\n  %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (%v)", addr, err)
	}
	if host != "" && net.ParseIP(host) == nil && host != "localhost" {
		if strings.ContainsAny(host, " /") {
			return fmt.Errorf("%q has an invalid host", addr)
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has an invalid port", addr)
	}
	return nil
}

// applyEnv sets fields from HOTLINE_* variables, named after the yaml path.
func applyEnv(c *Config, environ []string) error {
	vars := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, envPrefix) {
			vars[k] = v
		}
	}
	if len(vars) == 0 {
		return nil
	}
	used := map[string]bool{}
	if err := walkEnv(reflect.ValueOf(c).Elem(), strings.TrimSuffix(envPrefix, "_"), vars, used); err != nil {
		return err
	}
	for k := range vars {
		if !used[k] {
			return fmt.Errorf("%w: environment variable %s does not name a setting", ErrInvalid, k)
		}
	}
	return nil
}

const envPrefix = "HOTLINE_"

func walkEnv(v reflect.Value, prefix string, vars map[string]string, used map[string]bool) error {
	t := v.Type()
	for i := range t.NumField() {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Struct:
			if err := walkEnv(f, name, vars, used); err != nil {
				return err
			}
			continue
		case reflect.Map:
			for k, val := range vars {
				if key, ok := strings.CutPrefix(k, name+"_"); ok {
					if f.IsNil() {
						f.Set(reflect.MakeMap(f.Type()))
					}
					f.SetMapIndex(reflect.ValueOf(strings.ToLower(key)), reflect.ValueOf(val))
					used[k] = true
				}
			}
			continue
		}
		raw, ok := vars[name]
		if !ok {
			continue
		}
		used[name] = true
		if err := setScalar(f, raw); err != nil {
			return fmt.Errorf("%w: %s=%q: %v", ErrInvalid, name, raw, err)
		}
	}
	return nil
}

func setScalar(f reflect.Value, raw string) error {
	if f.Type() == reflect.TypeOf(time.Duration(0)) {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return errors.New("not a whole number")
		}
		f.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return errors.New("not a number")
		}
		f.SetFloat(x)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return errors.New("not true or false")
		}
		f.SetBool(b)
	default:
		return fmt.Errorf("cannot be set from the environment (%s)", f.Kind())
	}
	return nil
}
