package main

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/appeal"
	"github.com/hotline-ivr/hotline/handoff"
	"github.com/hotline-ivr/hotline/store"
	"github.com/hotline-ivr/hotline/voice"
)

// A call the PBX's queue took over (REFER accepted) must leave the desk's
// queue, or an agent would be offered a caller who is no longer on the
// line; the appeal records where the call went.
func TestTransferredCallLeavesTheDeskQueue(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "hotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	ap, err := startAppeals(ctx, slog.New(slog.DiscardHandler), db, gin.New().Group("/api/v1"), nil,
		appealsConfig{EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Close()
	a, _, err := ap.Service.Create(ctx, appeal.NewAppeal{Channel: appeal.Voice, Lang: "en", Queue: "general",
		Subject: "pension question", Contact: appeal.Contact{Phone: "+79161234567"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := ap.Center.Submit(handoff.Request{AppealNumber: a.Number, Channel: appeal.Voice, Lang: "en", Queue: "general"})
	if err != nil || d.HandoffID == "" {
		t.Fatalf("submit: %+v %v", d, err)
	}

	cb := callbackRequests{svc: ap.Service, center: ap.Center}
	ho := voice.Handoff{HandoffID: d.HandoffID, Queue: "general", AppealNumber: a.Number, Lang: "en", Mode: voice.TransferRefer}
	if err := cb.Transferred(ctx, ho, "sip:general@pbx.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := ap.Center.Get(d.HandoffID); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("the transferred caller is still in the desk queue: %v", err)
	}
	got, err := ap.Service.Get(ctx, a.Number)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got.Notes); n == 0 || !strings.Contains(got.Notes[n-1].Text, "sip:general@pbx.example") {
		t.Errorf("appeal notes %+v do not say where the call went", got.Notes)
	}
	// The handoff may have gone already (an agent's offer timed out and
	// the caller hung up): that is not an error.
	if err := cb.Transferred(ctx, ho, "sip:general@pbx.example"); err != nil {
		t.Errorf("second withdrawal: %v", err)
	}
}
