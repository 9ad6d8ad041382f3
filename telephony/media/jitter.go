package media

// jbSize is how many packets the jitter buffer can hold: far more than
// the 120 ms maximum depth, so reordering within a burst never overwrites.
const jbSize = 64

type slotKind uint8

const (
	kindAudio  slotKind = iota + 1
	kindFiller          // a sequence number used by a telephone-event packet: play silence
)

type jbSlot struct {
	valid   bool
	kind    slotKind
	seq     uint16
	payload []byte
}

type popStatus uint8

const (
	popWaiting popStatus = iota // not started yet: emit silence
	popPlay                     // a packet to decode
	popConceal                  // loss or underrun: conceal
)

// jitterBuffer orders packets by sequence number (wrap-around safe) and
// releases one per 20 ms tick. It is a plain data structure driven by the
// session's playout loop, so it is tested without clocks or sockets.
//
// Policy:
//   - start playing once target packets are buffered (adaptive 2..6 frames,
//     40..120 ms; raised by the measured jitter and by underruns);
//   - a missing packet is declared lost only when target packets behind it
//     have arrived; until then a concealment frame is inserted and the
//     packet may still arrive (reordering);
//   - clock drift: a sender slightly faster than us fills the buffer, so a
//     frame is dropped after the depth stayed above target+1 for half a
//     second; a slower sender empties it, and the underrun inserts a frame.
type jitterBuffer struct {
	slots    [jbSize]jbSlot
	count    int
	started  bool
	next     uint16 // next sequence number to play
	highest  uint16
	minDepth int
	maxDepth int
	target   int
	floor    int // raised by underruns, decays
	decay    int
	over     int // consecutive ticks above target+1
	underrun int // consecutive empty ticks while started

	lost, late, dup, dropped, concealed uint64
}

func newJitterBuffer(minDepth, maxDepth int) *jitterBuffer {
	minDepth = max(minDepth, 1)
	maxDepth = max(maxDepth, minDepth)
	return &jitterBuffer{minDepth: minDepth, maxDepth: maxDepth, target: minDepth, floor: minDepth}
}

func seqLess(a, b uint16) bool { return int16(a-b) < 0 }
func seqDiff(a, b uint16) int  { return int(int16(a - b)) }

func (jb *jitterBuffer) reset() {
	for i := range jb.slots {
		jb.slots[i].valid = false
	}
	jb.count = 0
	jb.started = false
}

// setJitterTarget adapts the depth to the measured interarrival jitter
// (in frames, rounded up) while keeping the floor from recent underruns.
func (jb *jitterBuffer) setJitterTarget(frames int) {
	jb.target = min(max(frames, jb.floor, jb.minDepth), jb.maxDepth)
}

// push stores a packet. It reports false for a late or duplicate packet.
func (jb *jitterBuffer) push(seq uint16, kind slotKind, payload []byte) bool {
	if jb.started {
		d := seqDiff(seq, jb.next)
		if d < 0 {
			if d < -jbSize*4 {
				// A sender restart or a huge jump back: start over.
				jb.reset()
			} else {
				jb.late++
				return false
			}
		} else if d >= jbSize {
			// A jump forward beyond the buffer (sender restarted,
			// long outage): resynchronise on the new stream.
			jb.reset()
		}
	}
	if !jb.started && jb.count > 0 && (seqDiff(seq, jb.highest) > jbSize || seqDiff(seq, jb.next) < -jbSize) {
		jb.reset()
	}
	s := &jb.slots[seq%jbSize]
	if s.valid {
		if s.seq == seq {
			jb.dup++
			return false
		}
		jb.count--
	}
	s.valid, s.kind, s.seq = true, kind, seq
	s.payload = append(s.payload[:0], payload...)
	if jb.count == 0 {
		jb.highest = seq
		if !jb.started {
			jb.next = seq
		}
	} else {
		if seqLess(jb.highest, seq) {
			jb.highest = seq
		}
		if !jb.started && seqLess(seq, jb.next) {
			jb.next = seq
		}
	}
	jb.count++
	return true
}

// pop returns what to play for this tick. The returned slot's payload is
// valid until the next push.
func (jb *jitterBuffer) pop() (*jbSlot, popStatus) {
	jb.decay++
	if jb.decay >= 500 { // every 10 s, forget one step of underrun history
		jb.decay = 0
		if jb.floor > jb.minDepth {
			jb.floor--
			jb.target = max(jb.target-1, jb.minDepth)
		}
	}
	if !jb.started {
		if jb.count == 0 || jb.count < jb.target {
			return nil, popWaiting
		}
		jb.started = true
		jb.underrun = 0
	}
	s := &jb.slots[jb.next%jbSize]
	if s.valid && s.seq == jb.next {
		s.valid = false
		jb.count--
		jb.next++
		jb.underrun = 0
		if jb.count > jb.target+1 {
			jb.over++
			// Far too deep (a burst after a network stall): catch up
			// quickly; slightly deep (clock drift): one frame per 0.5 s.
			if jb.over >= 25 || jb.count > 2*jb.maxDepth {
				jb.over = 0
				jb.dropOne()
			}
		} else {
			jb.over = 0
		}
		return s, popPlay
	}
	jb.concealed++
	if jb.count == 0 {
		// Underrun: the sender is late or slower than us. Insert a
		// frame without advancing, and ask for more depth next time.
		jb.underrun++
		if jb.underrun == 1 && jb.floor < jb.maxDepth {
			jb.floor++
			jb.target = max(jb.target, jb.floor)
		}
		if jb.underrun >= 10 {
			// 200 ms of nothing: the stream paused (hold, DTX, a
			// vanished peer); rebuffer when it comes back.
			jb.started = false
		}
		return nil, popConceal
	}
	if seqDiff(jb.highest, jb.next) >= jb.target {
		jb.lost++
		jb.next++
		return nil, popConceal
	}
	// The packet may still be on its way: conceal and wait.
	return nil, popConceal
}

// dropOne discards the oldest frame to pull the depth back towards target.
func (jb *jitterBuffer) dropOne() {
	s := &jb.slots[jb.next%jbSize]
	if s.valid && s.seq == jb.next {
		s.valid = false
		jb.count--
	}
	jb.next++
	jb.dropped++
}

func (jb *jitterBuffer) depth() int { return jb.count }
