package calls

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline-ivr/hotline/voice"
)

// Metrics are the calls' Prometheus series. A nil *Metrics counts nothing.
type Metrics struct {
	active       *prometheus.GaugeVec
	total        *prometheus.CounterVec
	voiceToVoice prometheus.Histogram
}

// NewMetrics registers hotline_calls_active{channel},
// hotline_calls_total{channel,reason} and
// hotline_call_voice_to_voice_seconds on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hotline_calls_active",
			Help: "Voice calls in progress."}, []string{"channel"}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotline_calls_total",
			Help: "Voice calls ended, by how they ended."}, []string{"channel", "reason"}),
		voiceToVoice: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "hotline_call_voice_to_voice_seconds",
			Help:    "From the end of the caller's speech to the first audio of the bot's reply.",
			Buckets: []float64{0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8}}),
	}
	for _, c := range []prometheus.Collector{m.active, m.total, m.voiceToVoice} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Zero series from the start, so dashboards and alerts see 0, not nothing.
	for _, ch := range []string{"sip", "webrtc"} {
		m.active.WithLabelValues(ch)
	}
	return m, nil
}

func (m *Metrics) started(channel string) {
	if m != nil {
		m.active.WithLabelValues(channel).Inc()
	}
}

func (m *Metrics) ended(channel, reason string, turns []voice.Turn) {
	if m == nil {
		return
	}
	m.active.WithLabelValues(channel).Dec()
	m.total.WithLabelValues(channel, reason).Inc()
	for _, t := range turns {
		if t.VoiceToVoice > 0 {
			m.voiceToVoice.Observe(t.VoiceToVoice.Seconds())
		}
	}
}
