package kms

import (
	"sync/atomic"
	"time"
)

// Stats are the service's counters, for metrics.
type Stats struct {
	// CacheHits and CacheMisses count lookups of the cache of opened keys.
	CacheHits, CacheMisses uint64
	// Jobs are the background jobs, by name: deletion, import_expiry,
	// rotation.
	Jobs []JobStats
}

// JobStats are one background job's counters.
type JobStats struct {
	Name           string
	Runs, Failures uint64
	// LastSuccess is when a run last succeeded (zero: never).
	LastSuccess time.Time
}

// Background jobs, in the order Stats lists them.
const (
	jobDeletion = iota
	jobImportExpiry
	jobRotation
	jobCount
)

var jobNames = [jobCount]string{jobDeletion: "deletion", jobImportExpiry: "import_expiry", jobRotation: "rotation"}

// counters are the service's; every field is updated atomically.
type counters struct {
	cacheHits, cacheMisses atomic.Uint64
	jobs                   [jobCount]struct {
		runs, failures atomic.Uint64
		lastSuccess    atomic.Int64 // Unix nanoseconds
	}
}

// jobRan counts a run of job that ended with err.
func (s *Service) jobRan(job int, err error) {
	j := &s.counters.jobs[job]
	j.runs.Add(1)
	if err != nil {
		j.failures.Add(1)
		return
	}
	// Wall time, not s.Now: the metric is read against the scraper's
	// clock, and tests replace s.Now while jobs run.
	j.lastSuccess.Store(time.Now().UnixNano())
}

// Stats returns the service's counters.
func (s *Service) Stats() Stats {
	st := Stats{CacheHits: s.counters.cacheHits.Load(), CacheMisses: s.counters.cacheMisses.Load()}
	for i, name := range jobNames {
		j := &s.counters.jobs[i]
		js := JobStats{Name: name, Runs: j.runs.Load(), Failures: j.failures.Load()}
		if t := j.lastSuccess.Load(); t != 0 {
			js.LastSuccess = time.Unix(0, t)
		}
		st.Jobs = append(st.Jobs, js)
	}
	return st
}
