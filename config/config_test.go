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
		{"early endpoint not below hangover", "asr:\n  vad:\n    hangover: 500ms\n    early_endpoint: 500ms\n", nil, "asr.vad.early_endpoint"},
		{"early endpoint too short", "asr:\n  vad:\n    early_endpoint: 20ms\n", nil, "asr.vad.early_endpoint"},
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

func TestAppealsQueuesDeskDefaultsAndEnv(t *testing.T) {
	c := Default()
	if c.Appeals.EncryptionKey != "" || c.Appeals.EncryptionKeyID != "k1" || c.Appeals.ProcessingDays != 5 ||
		c.Queues.OverflowAfter != 3*time.Minute || c.Desk.OfferTimeout != 20*time.Second || c.Desk.DisconnectGrace != 5*time.Second {
		t.Errorf("unexpected defaults: %+v %+v %+v", c.Appeals, c.Queues, c.Desk)
	}
	key := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes, base64
	hexKey := strings.Repeat("ab", 32)
	p := writeFile(t, "appeals:\n  webhooks:\n    - url: https://crm.example/hook\n      secret: 0123456789abcdef\n      events: [appeal.status_changed]\n"+
		"queues:\n  holidays:\n    \"2026-01-07\": closed\n    \"2026-03-07\": \"10:00-24:00\"\n  refer_uri:\n    tech: sip:tech@pbx.example\n")
	c, err := Load(p, []string{"HOTLINE_APPEALS_ENCRYPTION_KEY=" + key, "HOTLINE_APPEALS_OLD_KEYS_K0=" + hexKey,
		"HOTLINE_DESK_OFFER_TIMEOUT=30s", "HOTLINE_QUEUES_REFER_URI_SOCIAL=sip:social@pbx.example"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Appeals.EncryptionKey != key || c.Appeals.OldKeys["k0"] != hexKey || c.Desk.OfferTimeout != 30*time.Second {
		t.Errorf("env not applied: %+v %+v", c.Appeals, c.Desk)
	}
	if len(c.Appeals.Webhooks) != 1 || c.Appeals.Webhooks[0].Events[0] != "appeal.status_changed" {
		t.Errorf("webhooks = %+v", c.Appeals.Webhooks)
	}
	if c.Queues.Holidays["2026-01-07"] != "closed" || c.Queues.ReferURI["tech"] == "" || c.Queues.ReferURI["social"] == "" {
		t.Errorf("queues = %+v", c.Queues)
	}
}

func TestAppealsQueuesDeskInvalid(t *testing.T) {
	tests := []struct {
		name, file string
		env        []string
		wantMsg    string
	}{
		{"short key", "", []string{"HOTLINE_APPEALS_ENCRYPTION_KEY=c2hvcnQ="}, "appeals.encryption_key: must be 32 bytes"},
		{"bad lookup key", "appeals:\n  lookup_key: nope\n", nil, "appeals.lookup_key"},
		{"old key reuses active id", "appeals:\n  old_keys:\n    k1: " + strings.Repeat("00", 32) + "\n", nil, `"k1" is also the active`},
		{"bad old key", "appeals:\n  old_keys:\n    k0: nope\n", nil, "appeals.old_keys.k0"},
		{"zero days", "appeals:\n  processing_days: 0\n", nil, "appeals.processing_days"},
		{"bad holiday", "appeals:\n  holidays: [01.01.2026]\n", nil, `appeals.holidays: "01.01.2026" is not a date`},
		{"webhook url", "appeals:\n  webhooks:\n    - url: crm.example\n      secret: 0123456789abcdef\n", nil, "appeals.webhooks[0].url"},
		{"webhook secret", "appeals:\n  webhooks:\n    - url: https://crm.example\n      secret: short\n", nil, "appeals.webhooks[0].secret: needs at least 16"},
		{"webhook event", "appeals:\n  webhooks:\n    - url: https://crm.example\n      secret: 0123456789abcdef\n      events: [created]\n", nil, `"created" is not one of`},
		{"webhook unknown key", "appeals:\n  webhooks:\n    - uri: https://crm.example\n", nil, `unknown key "uri"`},
		{"sms without sender", "appeals:\n  sms:\n    url: https://sms.example\n", nil, "appeals.sms.sender"},
		{"queue hours", "queues:\n  holidays:\n    \"2026-01-07\": \"20:00-08:00\"\n", nil, "queues.holidays.2026-01-07"},
		{"refer unknown queue", "queues:\n  refer_uri:\n    pensions: sip:x@pbx\n", nil, `unknown queue "pensions"`},
		{"refer not sip", "queues:\n  refer_uri:\n    tech: http://pbx\n", nil, "queues.refer_uri.tech"},
		{"offer timeout", "", []string{"HOTLINE_DESK_OFFER_TIMEOUT=1s"}, "desk.offer_timeout: must be between 5s and 5m"},
		{"grace", "desk:\n  disconnect_grace: -1s\n", nil, "desk.disconnect_grace"},
		{"origin", "desk:\n  origins: [\"https://x/\"]\n", nil, "desk.origins"},
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
		})
	}
}

func TestEarlyEndpoint(t *testing.T) {
	if e := Default().ASR.VAD.EarlyEndpoint; e != 300*time.Millisecond {
		t.Errorf("default asr.vad.early_endpoint = %s, want 300ms", e)
	}
	c, err := Load(writeFile(t, "asr:\n  vad:\n    early_endpoint: 0s\n"), nil)
	if err != nil || c.ASR.VAD.EarlyEndpoint != 0 {
		t.Errorf("early_endpoint 0 (off): %v, %v", c, err)
	}
}
