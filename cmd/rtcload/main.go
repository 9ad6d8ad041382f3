// Command rtcload places concurrent in-app (WebRTC) calls against a
// Hotline server on loopback: each caller streams Opus speech in a loop
// for the hold time and records the server's stream (loss, late packets).
// cmd/benchmark runs it as a separate process so that the CPU it measures
// is the server's alone.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hotline-ivr/hotline/audio"
	"github.com/hotline-ivr/hotline/internal/rtcclient"
	"github.com/hotline-ivr/hotline/internal/sipload"
)

// Report is what a run writes with -json.
type Report struct {
	Calls, Answered, Connected, Failed int
	FirstErr                           string `json:",omitempty"`
	ConnectP50, ConnectP95             time.Duration
	Rx                                 sipload.RxStats // server → callers, all calls
	Sent                               int
	Wall                               time.Duration
}

func main() {
	base := flag.String("base", "", "API root, e.g. http://127.0.0.1:8080/api/v1")
	header := flag.String("header", "", "header for the token request, Name: value")
	calls := flag.Int("calls", 10, "concurrent calls")
	rate := flag.Float64("rate", 20, "calls set up per second")
	hold := flag.Duration("hold", 15*time.Second, "how long each call lasts once connected")
	loopWAV := flag.String("loop", "", "WAV the callers speak in a loop (silence if empty)")
	out := flag.String("json", "", "write the report here")
	maxDur := flag.Duration("max-duration", 3*time.Minute, "give up after this long")
	flag.Parse()
	if *base == "" || !strings.HasPrefix(*base, "http://127.0.0.1") {
		log.Fatal("rtcload: -base must be a loopback http URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *maxDur)
	defer cancel()
	hdr := http.Header{}
	if k, v, ok := strings.Cut(*header, ":"); ok {
		hdr.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	var loop []rtcclient.Frame
	if *loopWAV != "" {
		pcm, info, err := audio.ReadWAVFile(*loopWAV)
		if err != nil {
			log.Fatal(err)
		}
		if pcm, err = audio.Resample(pcm, info.Rate, audio.Rate48k); err != nil {
			log.Fatal(err)
		}
		if loop, err = rtcclient.Encode(pcm); err != nil {
			log.Fatal(err)
		}
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *calls}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	start := time.Now()
	var mu sync.Mutex
	rep := Report{Calls: *calls}
	var connects []time.Duration
	fail := func(err error) {
		mu.Lock()
		rep.Failed++
		if rep.FirstErr == "" {
			rep.FirstErr = err.Error()
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	gap := time.Duration(float64(time.Second) / max(*rate, 0.1))
	for i := range *calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := rtcclient.Dial(ctx, rtcclient.Options{Base: *base, Header: hdr, HTTP: hc})
			if err != nil {
				fail(err)
				return
			}
			mu.Lock()
			rep.Answered++
			mu.Unlock()
			select {
			case <-p.Connected():
			case <-time.After(15 * time.Second):
				fail(fmt.Errorf("call %d: not connected in 15 s", i))
				_ = p.Hangup(context.Background())
				return
			}
			p.Loop(loop, i*17) // callers out of step, as real ones are
			t := time.NewTimer(*hold)
			select {
			case <-t.C:
			case <-ctx.Done():
			}
			hctx, c := context.WithTimeout(context.Background(), 10*time.Second)
			if err := p.Hangup(hctx); err != nil {
				fail(err)
			}
			c()
			sent, recv := p.Timeline()
			tm := p.Timing()
			mu.Lock()
			rep.Connected++
			connects = append(connects, tm.Connected)
			rep.Rx = rep.Rx.Add(sipload.Stream(recv))
			rep.Sent += len(sent)
			mu.Unlock()
		}()
		time.Sleep(gap)
	}
	wg.Wait()
	rep.Wall = time.Since(start)
	rep.ConnectP50, rep.ConnectP95 = sipload.Percentile(connects, 50), sipload.Percentile(connects, 95)
	b, _ := json.MarshalIndent(rep, "", "  ")
	if *out != "" {
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			log.Fatal(err)
		}
	} else {
		os.Stdout.Write(append(b, '\n'))
	}
}
