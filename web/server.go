// Package web is Hotline's HTTP front door: one gin engine serving the REST
// API, the embedded web UIs, health and readiness probes and Prometheus
// metrics. Feature packages mount their routes on it; only cmd/hotline wires.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ReadinessCheck reports whether one component can serve traffic. A nil
// error means ready.
type ReadinessCheck func(ctx context.Context) error

// Server is the HTTP server. Create it with New, mount routes on Router or
// API, then call Serve.
type Server struct {
	log      *slog.Logger
	engine   *gin.Engine
	registry *prometheus.Registry
	version  string

	mu     sync.Mutex
	checks map[string]ReadinessCheck

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithRegistry makes the server expose (and register its own metrics in)
// reg, so other components can add theirs to the same /metrics.
func WithRegistry(reg *prometheus.Registry) Option { return func(s *Server) { s.registry = reg } }

// WithVersion sets the version reported by /healthz.
func WithVersion(v string) Option { return func(s *Server) { s.version = v } }

// New builds the server with /healthz, /readyz and /metrics mounted.
func New(opts ...Option) *Server {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		log:    slog.New(slog.DiscardHandler),
		engine: gin.New(),
		checks: map[string]ReadinessCheck{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
		s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hotline_http_requests_total", Help: "HTTP requests by route and status.",
	}, []string{"route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "hotline_http_request_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	}, []string{"route"})
	s.registry.MustRegister(s.requests, s.latency)

	s.engine.Use(s.recoverer(), s.observe())
	s.engine.NoRoute(func(c *gin.Context) {
		Problem(c, http.StatusNotFound, "Not found", "no such page or API route: "+c.Request.URL.Path)
	})
	s.engine.GET("/healthz", s.healthz)
	s.engine.GET("/readyz", s.readyz)
	s.engine.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})))
	mountStatic(s.engine)
	return s
}

// Router is the engine for mounting pages and APIs.
func (s *Server) Router() *gin.Engine { return s.engine }

// API is the /api/v1 route group.
func (s *Server) API() *gin.RouterGroup { return s.engine.Group("/api/v1") }

// Registry is where components register their metrics.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// AddReadiness registers a named check that /readyz runs.
func (s *Server) AddReadiness(name string, check ReadinessCheck) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[name] = check
}

// Serve accepts connections on ln until ctx is cancelled, then shuts down,
// giving requests in flight up to grace to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	srv := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	if err != nil {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	return nil
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok", "version": s.version})
}

func (s *Server) readyz(c *gin.Context) {
	s.mu.Lock()
	names := make([]string, 0, len(s.checks))
	for n := range s.checks {
		names = append(names, n)
	}
	checks := make(map[string]ReadinessCheck, len(s.checks))
	for n, ch := range s.checks {
		checks[n] = ch
	}
	s.mu.Unlock()
	sort.Strings(names)

	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	status, code := "ready", http.StatusOK
	results := make(map[string]string, len(names))
	for _, n := range names {
		if err := checks[n](ctx); err != nil {
			results[n] = err.Error()
			status, code = "not ready", http.StatusServiceUnavailable
			continue
		}
		results[n] = "ok"
	}
	c.JSON(code, gin.H{"status": status, "checks": results})
}

// observe logs each request and records its metrics. Routes are labelled by
// their pattern, not the raw path, to keep label cardinality bounded.
func (s *Server) observe() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		code := c.Writer.Status()
		s.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
		s.latency.WithLabelValues(route).Observe(elapsed.Seconds())
		level := slog.LevelDebug
		if code >= 500 {
			level = slog.LevelError
		}
		s.log.Log(c.Request.Context(), level, "http request",
			"method", c.Request.Method, "route", route, "status", code, "duration", elapsed)
	}
}

// recoverer turns a handler panic into a 500 problem response and a log
// line, so one bad request cannot take the service down.
func (s *Server) recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("http handler panic", "route", c.FullPath(), "panic", fmt.Sprint(r))
				if !c.Writer.Written() {
					Problem(c, http.StatusInternalServerError, "Internal error", "the request could not be completed")
				}
				c.Abort()
			}
		}()
		c.Next()
	}
}
