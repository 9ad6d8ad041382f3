package webrtc

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"gopkg.in/hraban/opus.v2"

	"github.com/hotline-ivr/hotline/audio"
)

// speechWAV finds a real recording: the shared test data, else the
// Debian pocketsphinx-testdata package.
func speechWAV(t *testing.T) string {
	for _, pattern := range []string{"../../../shared/speech/en/*.wav", "/usr/share/pocketsphinx/test/data/cards/*.wav"} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return m[0]
		}
	}
	t.Skip("no speech recording: neither ../shared/speech/en nor pocketsphinx-testdata; the tone test covers the path")
	return ""
}

// TestSpeechArrives sends a real recording through Opus and checks that
// the server hears as much speech, as loud, as was sent.
func TestSpeechArrives(t *testing.T) {
	if testing.Short() {
		t.Skip("real pion peers over loopback, plays a recording in real time; skipped with -short")
	}
	samples, info, err := audio.ReadWAVFile(speechWAV(t))
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := audio.Resample(samples, info.Rate, audio.Rate48k)
	if err != nil {
		t.Fatal(err)
	}
	pcm = pcm[:min(len(pcm), 3*audio.Rate48k)]
	rec := newRecorder()
	e := newEnv(t, rec)
	cl := newClient(t, webrtc.MimeTypeOpus, true)
	cl.dial(e, e.token().Token)
	call := <-rec.calls
	<-call.Connected()

	enc, err := opus.NewEncoder(audio.Rate48k, 1, opus.AppVoIP)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	tk := time.NewTicker(audio.FrameDuration)
	for _, f := range audio.Split(pcm, audio.Rate48k) {
		<-tk.C
		s := make([]int16, 960)
		copy(s, f.Samples)
		n, err := enc.Encode(s, buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.track.WriteSample(media.Sample{Data: buf[:n], Duration: audio.FrameDuration}); err != nil {
			t.Fatal(err)
		}
	}
	tk.Stop()
	time.Sleep(200 * time.Millisecond)

	got, rate := rec.recorded()
	if rate != audio.Rate48k {
		t.Fatalf("rate %d", rate)
	}
	sentDB, gotDB := audio.RMSdBFS(pcm), audio.RMSdBFS(got)
	speech := func(s []int16) time.Duration { // time above -40 dBFS, in 20 ms steps
		var d time.Duration
		for _, f := range audio.Split(s, rate) {
			if audio.RMSdBFS(f.Samples) > -40 {
				d += audio.FrameDuration
			}
		}
		return d
	}
	t.Logf("sent %v at %.1f dBFS (%v voiced); server got %v at %.1f dBFS (%v voiced)",
		time.Duration(len(pcm))*time.Second/audio.Rate48k, sentDB, speech(pcm),
		time.Duration(len(got))*time.Second/audio.Rate48k, gotDB, speech(got))
	if math.Abs(speech(got).Seconds()-speech(pcm).Seconds()) > 0.3 {
		t.Errorf("voiced time differs: sent %v, got %v", speech(pcm), speech(got))
	}
	// The received stream includes silence around the speech, so its RMS
	// can only be lower; Opus at 32 kbit/s keeps speech level within ~2 dB.
	if peak := loudestHalfSecond(got, rate); audio.RMSdBFS(peak) < audio.RMSdBFS(loudestHalfSecond(pcm, rate))-3 {
		t.Errorf("speech level lost: sent peak %.1f dBFS, got %.1f dBFS",
			audio.RMSdBFS(loudestHalfSecond(pcm, rate)), audio.RMSdBFS(peak))
	}
}
