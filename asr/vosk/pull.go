package vosk

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hotline-ivr/hotline/asr"
)

// DefaultBaseURL is where Alpha Cephei publishes the official models.
const DefaultBaseURL = "https://alphacephei.com/vosk/models/"

// ModelInfo describes an official model archive.
type ModelInfo struct {
	Lang string
	Name string // folder inside the archive, archive is Name + ".zip"
	// SHA256 of the archive; empty when not pinned yet (the download's
	// hash is then printed for the operator to compare and pin).
	SHA256 string
}

// Archives are the official small models `hotline models pull` installs.
var Archives = map[string]ModelInfo{
	"en": {Lang: "en", Name: OfficialModels["en"], SHA256: "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"},
	// The ru archive's published checksum could not be confirmed from
	// here, so it is not pinned: Pull reports the hash it computed.
	"ru": {Lang: "ru", Name: OfficialModels["ru"]},
}

// Download limits: the small models are 40-50 MB; anything far larger is
// not the file we asked for, and an archive that inflates beyond
// maxUnpacked is a zip bomb.
const (
	maxArchive  = 512 << 20
	maxUnpacked = 2 << 30
)

// Puller downloads and installs official models.
type Puller struct {
	// BaseURL replaces DefaultBaseURL (tests, mirrors).
	BaseURL string
	// Client replaces the default client, which gives up connecting after
	// ConnectTimeout so an offline host gets its answer quickly.
	Client *http.Client
	// Progress receives human-readable progress lines; nil discards them.
	Progress io.Writer
}

// ConnectTimeout bounds connecting to the model site.
const ConnectTimeout = 10 * time.Second

// PullResult says what Pull did.
type PullResult struct {
	Dir       string // the model folder
	SHA256    string // of the downloaded archive; empty if already installed
	Verified  bool   // SHA256 matched a pinned checksum
	Installed bool   // false if a complete model was already there
}

// Pull installs the official model for lang as parentDir/<model name>. An
// existing complete model is kept. The archive is downloaded to a
// temporary file beside the target, checked, unpacked to a temporary
// folder and renamed into place, so an interrupted pull never leaves a
// half-copied model under the final name.
func (p *Puller) Pull(ctx context.Context, lang, parentDir string) (PullResult, error) {
	info, ok := Archives[lang]
	if !ok {
		return PullResult{}, fmt.Errorf("%w: no official Vosk model for %q (ru, en)", asr.ErrUnsupportedLanguage, lang)
	}
	target := filepath.Join(parentDir, info.Name)
	if CheckModel(target) == nil {
		return PullResult{Dir: target}, nil
	}
	if err := os.MkdirAll(parentDir, 0o755); err != nil {
		return PullResult{}, err
	}
	base := p.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	url := strings.TrimSuffix(base, "/") + "/" + info.Name + ".zip"

	tmp, err := os.CreateTemp(parentDir, ".download-*.zip")
	if err != nil {
		return PullResult{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	p.say("downloading %s", url)
	sum, err := p.download(ctx, url, tmp)
	if err != nil {
		if errors.Is(err, ErrUnreachable) {
			return PullResult{}, fmt.Errorf("%w\n%s", err, ManualInstructions(info, target))
		}
		return PullResult{}, err
	}
	res := PullResult{Dir: target, SHA256: sum, Installed: true}
	if info.SHA256 != "" {
		if sum != info.SHA256 {
			return PullResult{}, fmt.Errorf("%w: %s has SHA-256 %s, expected %s (download damaged or tampered with; nothing installed)",
				ErrChecksum, url, sum, info.SHA256)
		}
		res.Verified = true
	}

	unpack, err := os.MkdirTemp(parentDir, ".unpack-*")
	if err != nil {
		return PullResult{}, err
	}
	defer os.RemoveAll(unpack)
	if err := unzip(tmp, unpack); err != nil {
		return PullResult{}, err
	}
	got := filepath.Join(unpack, info.Name)
	if err := CheckModel(got); err != nil {
		return PullResult{}, fmt.Errorf("the archive %s does not hold a usable model: %w", url, err)
	}
	// A broken earlier copy under the final name goes away first.
	if err := os.RemoveAll(target); err != nil {
		return PullResult{}, err
	}
	if err := os.Rename(got, target); err != nil {
		return PullResult{}, err
	}
	p.say("installed %s", target)
	return res, nil
}

// ManualInstructions tells an operator on an offline host what to fetch and
// where to unpack it.
func ManualInstructions(info ModelInfo, target string) string {
	sum := "its SHA-256 is not pinned in Hotline yet; compare with the model page"
	if info.SHA256 != "" {
		sum = "SHA-256 " + info.SHA256
	}
	return fmt.Sprintf("To install the model by hand: on a machine with internet access download\n  %s%s.zip (%s)\n"+
		"and unpack it so that this file exists:\n  %s\n",
		DefaultBaseURL, info.Name, sum, filepath.Join(target, "am", "final.mdl"))
}

func (p *Puller) say(format string, args ...any) {
	if p.Progress != nil {
		fmt.Fprintf(p.Progress, format+"\n", args...)
	}
}

func (p *Puller) client() *http.Client {
	if p.Client != nil {
		return p.Client
	}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: ConnectTimeout}).DialContext,
		TLSHandshakeTimeout:   ConnectTimeout,
		ResponseHeaderTimeout: 30 * time.Second,
	}}
}

// download writes the body to f and returns its SHA-256.
func (p *Puller) download(ctx context.Context, url string, f *os.File) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := p.client().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("vosk: downloading %s: %s", url, resp.Status)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(resp.Body, maxArchive+1))
	if err != nil {
		return "", fmt.Errorf("vosk: downloading %s: %w", url, err)
	}
	if n > maxArchive {
		return "", fmt.Errorf("%w: %s is larger than %d MB", ErrUnsafeArchive, url, maxArchive>>20)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return "", fmt.Errorf("vosk: downloading %s: got %d of %d bytes", url, n, resp.ContentLength)
	}
	p.say("downloaded %d bytes, SHA-256 %x", n, h.Sum(nil))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// unzip extracts f into dir, refusing entries that would escape it (zip
// slip), links and devices, and archives that inflate beyond maxUnpacked.
func unzip(f *os.File, dir string) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		return fmt.Errorf("%w: not a zip archive: %v", ErrUnsafeArchive, err)
	}
	var total uint64
	for _, zf := range zr.File {
		name := filepath.FromSlash(zf.Name)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("%w: entry %q points outside the model folder", ErrUnsafeArchive, zf.Name)
		}
		dst := filepath.Join(dir, name)
		mode := zf.Mode()
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			continue
		case !mode.IsRegular():
			return fmt.Errorf("%w: entry %q is not a regular file (%s)", ErrUnsafeArchive, zf.Name, mode.Type())
		}
		total += zf.UncompressedSize64
		if total > maxUnpacked {
			return fmt.Errorf("%w: unpacks to more than %d GB", ErrUnsafeArchive, maxUnpacked>>30)
		}
		if err := extract(zf, dst); err != nil {
			return err
		}
	}
	return nil
}

func extract(zf *zip.File, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	r, err := zf.Open()
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnsafeArchive, zf.Name, err)
	}
	defer r.Close()
	w, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	// The declared size bounds the copy, so a lying header cannot inflate
	// further; zip's reader checks the CRC at the end.
	n, err := io.Copy(w, io.LimitReader(r, int64(zf.UncompressedSize64)+1))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnsafeArchive, zf.Name, err)
	}
	if uint64(n) != zf.UncompressedSize64 {
		return fmt.Errorf("%w: %s: size differs from its header", ErrUnsafeArchive, zf.Name)
	}
	return nil
}
