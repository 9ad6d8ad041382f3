package media

import "testing"

func playAll(jb *jitterBuffer, ticks int) (played []uint16, conceal int) {
	for range ticks {
		s, st := jb.pop()
		switch st {
		case popPlay:
			played = append(played, s.seq)
		case popConceal:
			conceal++
		}
	}
	return
}

func TestJitterReorderAndWrap(t *testing.T) {
	jb := newJitterBuffer(2, 6)
	// Sequence numbers across the 16-bit wrap, delivered out of order.
	order := []uint16{65533, 65535, 65534, 1, 0, 2, 4, 3, 5}
	for _, q := range order {
		jb.push(q, kindAudio, []byte{byte(q)})
	}
	played, conceal := playAll(jb, 9)
	want := []uint16{65533, 65534, 65535, 0, 1, 2, 3, 4, 5}
	if len(played) != len(want) || conceal != 0 {
		t.Fatalf("played %v conceal %d", played, conceal)
	}
	for i := range want {
		if played[i] != want[i] {
			t.Fatalf("played %v, want %v", played, want)
		}
	}
	if jb.push(3, kindAudio, nil) || jb.late != 1 {
		t.Fatalf("late packet accepted")
	}
}

func TestJitterLossAndDuplicate(t *testing.T) {
	jb := newJitterBuffer(2, 6)
	for _, q := range []uint16{10, 11, 11, 13, 14, 15, 16} {
		jb.push(q, kindAudio, nil)
	}
	if jb.dup != 1 {
		t.Fatalf("dup %d", jb.dup)
	}
	played, conceal := playAll(jb, 6)
	if conceal != 1 || jb.lost != 1 || len(played) != 5 || played[2] != 13 {
		t.Fatalf("played %v conceal %d lost %d", played, conceal, jb.lost)
	}
}

func TestJitterLateArrivalWithinDepth(t *testing.T) {
	jb := newJitterBuffer(3, 6)
	for _, q := range []uint16{1, 2, 3, 4} {
		jb.push(q, kindAudio, nil)
	}
	jb.pop() // 1
	jb.pop() // 2
	jb.pop() // 3
	// 5 missing, 6 arrives: only one packet behind the gap, so wait.
	jb.pop() // 4
	jb.push(6, kindAudio, nil)
	if _, st := jb.pop(); st != popConceal || jb.lost != 0 {
		t.Fatalf("declared lost too early")
	}
	jb.push(5, kindAudio, nil) // arrives late but in time
	if s, st := jb.pop(); st != popPlay || s.seq != 5 {
		t.Fatalf("late packet not played")
	}
}

func TestJitterDriftDrop(t *testing.T) {
	jb := newJitterBuffer(2, 6)
	q := uint16(0)
	// A sender 2% fast: every tick one packet, every 50th tick two.
	for i := range 3000 {
		jb.push(q, kindAudio, nil)
		q++
		if i%50 == 0 {
			jb.push(q, kindAudio, nil)
			q++
		}
		jb.pop()
	}
	if jb.dropped == 0 || jb.depth() > jb.maxDepth+2 {
		t.Fatalf("dropped %d depth %d", jb.dropped, jb.depth())
	}
}

func TestJitterUnderrunInserts(t *testing.T) {
	jb := newJitterBuffer(2, 6)
	q := uint16(0)
	conceal := 0
	// A sender 10% slow: every tenth tick nothing arrives.
	for i := range 200 {
		if i%10 != 5 {
			jb.push(q, kindAudio, nil)
			q++
		}
		if _, st := jb.pop(); st == popConceal {
			conceal++
		}
	}
	if jb.lost != 0 || conceal == 0 {
		t.Fatalf("lost %d conceal %d", jb.lost, conceal)
	}
}

func TestDTMFReceiverDedup(t *testing.T) {
	r := dtmfReceiver{clock: 8000}
	ev := func(code uint8, end bool, dur uint16) []byte {
		return dtmfEvent{Code: code, End: end, Duration: dur}.marshal(nil)
	}
	var got []byte
	for _, p := range []struct {
		ts uint32
		b  []byte
	}{
		{100, ev(5, false, 160)}, {100, ev(5, false, 320)}, {100, ev(5, true, 800)}, {100, ev(5, true, 800)}, {100, ev(5, true, 800)},
		{2000, ev(11, true, 800)}, {2000, ev(11, true, 800)}, // start packets lost
		{3000, []byte{1}}, // malformed
	} {
		if d, ok := r.receive(p.ts, p.b); ok {
			got = append(got, d.Key)
		}
	}
	if string(got) != "5#" {
		t.Fatalf("got %q", got)
	}
}
