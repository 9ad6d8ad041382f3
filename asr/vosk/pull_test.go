package vosk

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeModelZip builds a small archive laid out like an official model.
func fakeModelZip(t *testing.T, name string, extra map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := map[string]string{
		name + "/am/final.mdl":    "model",
		name + "/conf/model.conf": "--beam=10\n",
		name + "/conf/mfcc.conf":  "--use-energy=false\n",
		name + "/graph/HCLr.fst":  "fst",
		name + "/graph/Gr.fst":    "fst",
	}
	for k, v := range extra {
		files[k] = v
	}
	for n, c := range files {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(c))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func serve(t *testing.T, files map[string][]byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/models/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/models/"
}

// pin temporarily pins a checksum for lang.
func pin(t *testing.T, lang string, data []byte) {
	t.Helper()
	old := Archives[lang]
	sum := sha256.Sum256(data)
	info := old
	info.SHA256 = hex.EncodeToString(sum[:])
	Archives[lang] = info
	t.Cleanup(func() { Archives[lang] = old })
}

func TestPull(t *testing.T) {
	ctx := context.Background()
	name := Archives["en"].Name
	good := fakeModelZip(t, name, nil)

	t.Run("checksum ok", func(t *testing.T) {
		pin(t, "en", good)
		dir := t.TempDir()
		p := &Puller{BaseURL: serve(t, map[string][]byte{name + ".zip": good})}
		res, err := p.Pull(ctx, "en", dir)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Verified || !res.Installed || res.Dir != filepath.Join(dir, name) || CheckModel(res.Dir) != nil {
			t.Fatalf("result %+v", res)
		}
		// Only the model is left behind, no temporary files.
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("left in %s: %v", dir, entries)
		}
		// A second pull keeps the installed model.
		res, err = p.Pull(ctx, "en", dir)
		if err != nil || res.Installed {
			t.Errorf("second pull: %+v, %v", res, err)
		}
	})

	t.Run("checksum mismatch", func(t *testing.T) {
		pin(t, "en", []byte("something else"))
		dir := t.TempDir()
		p := &Puller{BaseURL: serve(t, map[string][]byte{name + ".zip": good})}
		_, err := p.Pull(ctx, "en", dir)
		if !errors.Is(err, ErrChecksum) {
			t.Fatalf("err %v, want ErrChecksum", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("mismatching download left %v", entries)
		}
	})

	t.Run("unpinned", func(t *testing.T) {
		ru := Archives["ru"]
		if ru.SHA256 != "" {
			t.Skip("ru is pinned")
		}
		data := fakeModelZip(t, ru.Name, nil)
		p := &Puller{BaseURL: serve(t, map[string][]byte{ru.Name + ".zip": data})}
		res, err := p.Pull(ctx, "ru", t.TempDir())
		sum := sha256.Sum256(data)
		if err != nil || res.Verified || res.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("unpinned pull: %+v, %v", res, err)
		}
	})

	for _, tc := range []struct {
		name  string
		entry string
	}{
		{"zip slip", "../../evil.txt"},
		{"absolute path", "/tmp/evil.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := fakeModelZip(t, name, map[string]string{tc.entry: "pwned"})
			pin(t, "en", bad)
			parent := t.TempDir()
			dir := filepath.Join(parent, "models")
			p := &Puller{BaseURL: serve(t, map[string][]byte{name + ".zip": bad})}
			_, err := p.Pull(ctx, "en", dir)
			if !errors.Is(err, ErrUnsafeArchive) {
				t.Fatalf("err %v, want ErrUnsafeArchive", err)
			}
			if _, err := os.Stat(filepath.Join(parent, "evil.txt")); err == nil {
				t.Error("zip slip wrote outside the folder")
			}
			if CheckModel(filepath.Join(dir, name)) == nil {
				t.Error("a model was installed from an unsafe archive")
			}
		})
	}

	t.Run("not a model", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create(name + "/README")
		w.Write([]byte("hi"))
		zw.Close()
		pin(t, "en", buf.Bytes())
		p := &Puller{BaseURL: serve(t, map[string][]byte{name + ".zip": buf.Bytes()})}
		if _, err := p.Pull(ctx, "en", t.TempDir()); err == nil || !strings.Contains(err.Error(), "am/final.mdl") {
			t.Errorf("archive without a model: %v", err)
		}
	})

	t.Run("not found", func(t *testing.T) {
		p := &Puller{BaseURL: serve(t, nil)}
		if _, err := p.Pull(ctx, "en", t.TempDir()); err == nil || !strings.Contains(err.Error(), "404") {
			t.Errorf("404: %v", err)
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		// A port nobody listens on: connection refused at once.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		dir := t.TempDir()
		p := &Puller{BaseURL: "http://" + addr + "/models/"}
		start := time.Now()
		_, err = p.Pull(ctx, "ru", dir)
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("err %v, want ErrUnreachable", err)
		}
		msg := err.Error()
		for _, want := range []string{DefaultBaseURL + Archives["ru"].Name + ".zip", filepath.Join(dir, Archives["ru"].Name, "am", "final.mdl")} {
			if !strings.Contains(msg, want) {
				t.Errorf("message does not say %q:\n%s", want, msg)
			}
		}
		if time.Since(start) > ConnectTimeout {
			t.Errorf("took %v", time.Since(start))
		}
	})

	t.Run("unknown language", func(t *testing.T) {
		if _, err := (&Puller{}).Pull(ctx, "de", t.TempDir()); err == nil {
			t.Error("pulled a model for de")
		}
	})
}
