package nlu

import (
	"math"
	"math/rand/v2"
)

// example is one labelled training utterance.
type example struct {
	x []feature
	y int
	w float64 // sample weight; 0 means 1
}

// linear is a multinomial logistic regression over hashed features, with
// a softmax temperature fitted on held-out data so that its probabilities
// mean what they say.
type linear struct {
	classes []string
	k       int
	w       []float32 // feature-major: w[idx*k+c]
	b       []float32
	temp    float64
}

type trainParams struct {
	epochs int
	lr     float64
	l2     float64
	seed   uint64
}

var defaultTrain = trainParams{epochs: 18, lr: 0.4, l2: 1e-5, seed: 1}

// newLinear trains a model by stochastic gradient descent. Weight decay
// is applied lazily, only to the features an example touches, which keeps
// an epoch proportional to the number of active features.
func newLinear(classes []string, data []example, p trainParams) *linear {
	k := len(classes)
	m := &linear{classes: classes, k: k, w: make([]float32, (1<<featureBits)*k), b: make([]float32, k), temp: 1}
	rng := rand.New(rand.NewPCG(p.seed, p.seed^0x9e3779b97f4a7c15))
	order := make([]int, len(data))
	for i := range order {
		order[i] = i
	}
	probs := make([]float64, k)
	for epoch := range p.epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		lr := p.lr / (1 + 0.15*float64(epoch))
		decay := float32(1 - lr*p.l2)
		for _, i := range order {
			ex := data[i]
			m.logits(ex.x, probs)
			softmax(probs, 1)
			w := ex.w
			if w == 0 {
				w = 1
			}
			for c := range k {
				g := probs[c]
				if c == ex.y {
					g--
				}
				probs[c] = g * lr * w
			}
			for _, f := range ex.x {
				row := m.w[int(f.idx)*k : int(f.idx)*k+k]
				for c := range k {
					row[c] = row[c]*decay - float32(probs[c])*f.val
				}
			}
			for c := range k {
				m.b[c] -= float32(probs[c])
			}
		}
	}
	return m
}

// logits writes the raw class scores of x into out.
func (m *linear) logits(x []feature, out []float64) {
	for c := range m.k {
		out[c] = float64(m.b[c])
	}
	for _, f := range x {
		row := m.w[int(f.idx)*m.k : int(f.idx)*m.k+m.k]
		for c := range m.k {
			out[c] += float64(row[c] * f.val)
		}
	}
}

// predict returns calibrated class probabilities.
func (m *linear) predict(x []feature) []float64 {
	p := make([]float64, m.k)
	m.logits(x, p)
	softmax(p, m.temp)
	return p
}

// calibrate picks the softmax temperature minimising the negative log
// likelihood of held-out examples.
func (m *linear) calibrate(held []example) {
	if len(held) == 0 {
		return
	}
	logits := make([][]float64, len(held))
	for i, ex := range held {
		logits[i] = make([]float64, m.k)
		m.logits(ex.x, logits[i])
	}
	best, bestT := math.Inf(1), 1.0
	p := make([]float64, m.k)
	for t := 0.25; t <= 6; t += 0.05 {
		nll := 0.0
		for i, ex := range held {
			copy(p, logits[i])
			softmax(p, t)
			nll -= math.Log(max(p[ex.y], 1e-12))
		}
		if nll < best {
			best, bestT = nll, t
		}
	}
	m.temp = bestT
}

func softmax(v []float64, temp float64) {
	mx := math.Inf(-1)
	for _, x := range v {
		mx = max(mx, x)
	}
	sum := 0.0
	for i, x := range v {
		v[i] = math.Exp((x - mx) / temp)
		sum += v[i]
	}
	for i := range v {
		v[i] /= sum
	}
}
