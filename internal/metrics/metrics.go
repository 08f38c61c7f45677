// Package metrics is kmsd's Prometheus instrumentation: the collectors
// every layer feeds, and the /metrics handler. docs/operations.md lists
// each series with its meaning. Labels hold operation names, statuses,
// error codes and reason classes — never a credential, key id or user.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kmsd/kmsd/internal/audit"
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/store"
)

const namespace = "kmsd"

// Metrics holds kmsd's collectors. It implements api.Observer. It is
// safe for concurrent use.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	authFailures *prometheus.CounterVec
	throttled    *prometheus.CounterVec
	auditSync    prometheus.Histogram
	storeErrors  prometheus.Counter

	// series caches the children of requests and latency by label
	// values, so that a request costs no label hashing.
	series sync.Map // seriesKey → *series
}

type seriesKey struct {
	op     string
	status int
	code   string
}

type series struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// New returns Metrics with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "requests_total",
		Help: "Requests answered, by operation (the SDK's name; empty when no route matched), HTTP status and Huawei error code.",
	}, []string{"operation", "status", "error_code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "request_duration_seconds",
		Help:    "Time from the request's arrival to its answer, audit record included, by operation.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"operation"})
	m.authFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "auth_failures_total",
		Help: "Refused authentications and authorizations, by reason class.",
	}, []string{"reason"})
	m.throttled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "throttled_total",
		Help: "Requests refused with 429 APIGW.0308, by limit class (crypto, management, read, login).",
	}, []string{"class"})
	m.auditSync = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "audit", Name: "fsync_duration_seconds",
		Help:    "Duration of the audit trail's fsyncs (one per group commit).",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	})
	m.storeErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "store", Name: "errors_total",
		Help: "Store transactions that failed in the store itself (begin, commit, busy), not by the caller's choice.",
	})
	m.reg.MustRegister(m.requests, m.latency, m.authFailures, m.throttled, m.auditSync, m.storeErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Request implements api.Observer.
func (m *Metrics) Request(op string, status int, code string, d time.Duration) {
	k := seriesKey{op, status, code}
	v, ok := m.series.Load(k)
	if !ok {
		v, _ = m.series.LoadOrStore(k, &series{
			count:   m.requests.WithLabelValues(op, strconv.Itoa(status), code),
			latency: m.latency.WithLabelValues(op),
		})
	}
	s := v.(*series)
	s.count.Inc()
	s.latency.Observe(d.Seconds())
}

// AuthFailure implements api.Observer.
func (m *Metrics) AuthFailure(reason string) { m.authFailures.WithLabelValues(reason).Inc() }

// Throttled implements api.Observer.
func (m *Metrics) Throttled(class string) { m.throttled.WithLabelValues(class).Inc() }

// ObserveAuditSync records one audit fsync (audit.Options.ObserveSync).
func (m *Metrics) ObserveAuditSync(d time.Duration) { m.auditSync.Observe(d.Seconds()) }

// StoreError counts a failed store transaction.
func (m *Metrics) StoreError() { m.storeErrors.Inc() }

// AuditTrail publishes the counters of an audit trail.
func (m *Metrics) AuditTrail(l *audit.Log) {
	counter := func(name, help string, f func(audit.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Subsystem: "audit", Name: name, Help: help},
			func() float64 { return float64(f(l.Stats())) })
	}
	m.reg.MustRegister(
		counter("appends_total", "Audit records made durable.", func(s audit.Stats) uint64 { return s.Appends }),
		counter("records_lost_total", "Audit records that could not be written (best_effort: answered anyway; required: the request was refused).", func(s audit.Stats) uint64 { return s.Losses }),
		counter("fsyncs_total", "Audit group commits (fsyncs).", func(s audit.Stats) uint64 { return s.Syncs }),
		counter("checkpoints_total", "Signed audit checkpoints written.", func(s audit.Stats) uint64 { return s.Checkpoints }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Subsystem: "audit", Name: "queue_depth", Help: "Audit records waiting for the next group commit."},
			func() float64 { return float64(l.Stats().Queued) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Subsystem: "audit", Name: "writable", Help: "1 when the last audit write succeeded, 0 when the trail cannot be written."},
			func() float64 {
				if l.Writable() {
					return 1
				}
				return 0
			}),
	)
}

// GroupCommits publishes the store's group commit counters: groups
// committed and the writes (Update calls) they held.
func (m *Metrics) GroupCommits(gc store.GroupCommitter) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Subsystem: "store", Name: "commit_groups_total", Help: "Store transactions committed by the group committer."},
			func() float64 { g, _ := gc.CommitGroups(); return float64(g) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Subsystem: "store", Name: "commit_writes_total", Help: "Store writes (Update calls) committed in those groups; writes / groups is the batching factor."},
			func() float64 { _, w := gc.CommitGroups(); return float64(w) }),
	)
}

// KMS publishes the key service's counters.
func (m *Metrics) KMS(s *kms.Service) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Name: "key_cache_hits_total", Help: "Lookups served by the cache of opened keys."},
			func() float64 { return float64(s.Stats().CacheHits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Name: "key_cache_misses_total", Help: "Lookups of the cache of opened keys that had to read the store."},
			func() float64 { return float64(s.Stats().CacheMisses) }),
		&jobCollector{s: s},
	)
}

// jobCollector reports the background jobs' counters.
type jobCollector struct{ s *kms.Service }

var (
	jobRuns     = prometheus.NewDesc(namespace+"_job_runs_total", "Runs of a background job.", []string{"job"}, nil)
	jobFailures = prometheus.NewDesc(namespace+"_job_failures_total", "Runs of a background job that failed.", []string{"job"}, nil)
	jobLast     = prometheus.NewDesc(namespace+"_job_last_success_timestamp_seconds", "When a background job last succeeded (0: never); now minus this is the job's lag.", []string{"job"}, nil)
)

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobRuns
	ch <- jobFailures
	ch <- jobLast
}

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	for _, j := range c.s.Stats().Jobs {
		ch <- prometheus.MustNewConstMetric(jobRuns, prometheus.CounterValue, float64(j.Runs), j.Name)
		ch <- prometheus.MustNewConstMetric(jobFailures, prometheus.CounterValue, float64(j.Failures), j.Name)
		last := 0.0
		if !j.LastSuccess.IsZero() {
			last = float64(j.LastSuccess.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(jobLast, prometheus.GaugeValue, last, j.Name)
	}
}

// KeyStates publishes the number of keys in each state, read at each
// scrape from counts that the store maintains (O(number of states)).
func (m *Metrics) KeyStates(counts func(context.Context) (map[string]int, error), name func(state string) string) {
	m.reg.MustRegister(&stateCollector{counts: counts, name: name, errs: m.storeErrors})
}

var keysDesc = prometheus.NewDesc(namespace+"_keys", "Keys by state, all projects.", []string{"state"}, nil)

type stateCollector struct {
	counts func(context.Context) (map[string]int, error)
	name   func(string) string
	errs   prometheus.Counter
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- keysDesc }

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.counts(ctx)
	if err != nil {
		c.errs.Inc()
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(keysDesc, prometheus.GaugeValue, float64(n), c.name(state))
	}
}
