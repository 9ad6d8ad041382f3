package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hotline.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsAreValid(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != ":8080" || c.ASR.Engine != "vosk" || c.ASR.Vosk.Models["ru"] == "" {
		t.Errorf("unexpected defaults: %+v", c)
	}
}

func TestFileAndEnvOverride(t *testing.T) {
	p := writeFile(t, "http:\n  addr: 127.0.0.1:9000\nasr:\n  engine: sphinx\n  vad:\n    hangover: 500ms\n")
	c, err := Load(p, []string{"HOTLINE_ASR_MAX_STREAMS=4", "HOTLINE_ASR_VOSK_MODELS_EN=/models/en", "PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != "127.0.0.1:9000" || c.ASR.Engine != "sphinx" || c.ASR.VAD.Hangover != 500*time.Millisecond {
		t.Errorf("file not applied: %+v", c)
	}
	if c.ASR.MaxStreams != 4 || c.ASR.Vosk.Models["en"] != "/models/en" {
		t.Errorf("env not applied: %+v", c.ASR)
	}
	if c.ASR.Vosk.Models["ru"] == "" {
		t.Error("overriding one model dropped the other default")
	}
	if c.HTTP.ShutdownTimeout != 10*time.Second {
		t.Error("a key absent from the file lost its default")
	}
}

func TestEmptyFileKeepsDefaults(t *testing.T) {
	if _, err := Load(writeFile(t, ""), nil); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidConfigsSayWhatIsWrong(t *testing.T) {
	tests := []struct {
		name, file string
		env        []string
		wantMsg    string
	}{
		{"unknown key", "http:\n  adress: :80\n", nil, `line 2: unknown key "adress" in section HTTP`},
		{"unknown section", "htp:\n  addr: :80\n", nil, `unknown key "htp"`},
		{"bad engine", "asr:\n  engine: whisper\n", nil, `asr.engine: "whisper" is not one of vosk, sphinx`},
		{"bad addr", "http:\n  addr: localhost\n", nil, `http.addr`},
		{"bad duration", "asr:\n  vad:\n    hangover: soon\n", nil, "line 3: cannot unmarshal !!str `soon` into time.Duration"},
		{"several at once", "asr:\n  max_streams: 0\nlog:\n  level: loud\n", nil, "asr.max_streams"},
		{"unknown env", "", []string{"HOTLINE_HTTP_PORT=80"}, "HOTLINE_HTTP_PORT does not name a setting"},
		{"bad env value", "", []string{"HOTLINE_ASR_MAX_STREAMS=many"}, "not a whole number"},
		{"bad language", "asr:\n  vosk:\n    models:\n      de: x\n", nil, `unknown language "de"`},
		{"not yaml", "http: [", nil, "yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tt.file), tt.env)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("message %q does not mention %q", err, tt.wantMsg)
			}
			if tt.name == "several at once" && !strings.Contains(err.Error(), "log.level") {
				t.Errorf("only the first problem reported: %v", err)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want not-exist", err)
	}
}
