package api

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kmsd/kmsd/internal/throttle"
)

// Throttling (docs/operations.md): per-user and per-project token buckets
// for each operation class, checked once the caller is known, and limits
// on failed password logins per source address and per user name,
// checked before the password is. Either answers 429 APIGW.0308 with
// Retry-After (reference errors.md §4).

// Operation classes.
const (
	classCrypto = iota
	classManagement
	classRead
	classCount
)

var classNames = [classCount]string{classCrypto: "crypto", classManagement: "management", classRead: "read"}

// Rate is a token bucket per user and per project.
type Rate struct {
	UserRPS, ProjectRPS float64
	Burst               int
}

// ThrottleConfig configures the limits.
type ThrottleConfig struct {
	// Enabled turns the request rate limits on; the login limits are
	// always on when Login is set.
	Enabled bool
	// Rates by class: crypto, management, read.
	Crypto, Management, Read Rate
	// Login limits failed password logins (none when its zero value).
	Login LoginLimits
}

// LoginLimits bound password guessing.
type LoginLimits struct {
	FailuresPerSource, FailuresPerUser int
	FailureRefill                      time.Duration
	InFlight                           int
}

// limits are a Handler's throttles.
type limits struct {
	enabled bool
	// user and project buckets by class.
	user, project [classCount]*throttle.Limiter
	login         *loginLimits
}

func newLimits(c ThrottleConfig) *limits {
	l := &limits{enabled: c.Enabled}
	for i, r := range [classCount]Rate{classCrypto: c.Crypto, classManagement: c.Management, classRead: c.Read} {
		l.user[i] = throttle.NewLimiter(r.UserRPS, r.Burst, nil)
		l.project[i] = throttle.NewLimiter(r.ProjectRPS, r.Burst, nil)
	}
	if c.Login.InFlight > 0 {
		l.login = newLoginLimits(c.Login)
	}
	return l
}

// routeClass is the operation class of a route, from its IAM action.
func routeClass(rt *route) int {
	a := rt.action
	_, verb, _ := strings.Cut(strings.TrimPrefix(a, "kms:"), ":")
	switch {
	case strings.HasPrefix(a, "kms:dek:"), verb == "crypto", verb == "reEncrypt", verb == "generate",
		verb == "sign", verb == "verify", verb == "deriveSharedSecret", verb == "generateMac", verb == "verifyMac",
		strings.HasPrefix(verb, "createDataKey"):
		return classCrypto
	case strings.HasPrefix(verb, "get"), strings.HasPrefix(verb, "list"):
		return classRead
	}
	return classManagement
}

// throttleCall spends a token of the caller's and of the project's
// bucket for the route's class, or refuses the call with errThrottled.
func (h *Handler) throttleCall(c *call) error {
	l := h.limits
	if l == nil || !l.enabled || c.route == nil || c.principal.UserID == "" {
		return nil
	}
	class := routeClass(c.route)
	if ok, wait := l.user[class].Allow(c.principal.UserID); !ok {
		return h.throttled(c, classNames[class], wait)
	}
	if p := c.project(); p != "" {
		if ok, wait := l.project[class].Allow(p); !ok {
			return h.throttled(c, classNames[class], wait)
		}
	}
	return nil
}

// throttled sets Retry-After (whole seconds, at least 1) and returns
// errThrottled.
func (h *Handler) throttled(c *call, class string, wait time.Duration) error {
	secs := int64((wait + time.Second - 1) / time.Second)
	c.w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	if o := h.cfg.Observer; o != nil {
		o.Throttled(class)
	}
	return errThrottled
}

// loginLimits keep an attacker's password guesses from queueing ahead of
// everyone else's logins: a source address or a user name may have only
// InFlight password checks running or waiting, and after a burst of
// failures one more attempt every FailureRefill; beyond that the
// attempt is refused before its password is checked.
type loginLimits struct {
	sources, users       *throttle.Limiter
	sourceBusy, userBusy *throttle.InFlight
	// checks counts password checks admitted, refused counts attempts
	// refused unchecked.
	checks, refused atomic.Uint64
}

func newLoginLimits(c LoginLimits) *loginLimits {
	rate := 1 / c.FailureRefill.Seconds()
	return &loginLimits{
		sources:    throttle.NewLimiter(rate, c.FailuresPerSource, nil),
		users:      throttle.NewLimiter(rate, c.FailuresPerUser, nil),
		sourceBusy: throttle.NewInFlight(c.InFlight),
		userBusy:   throttle.NewInFlight(c.InFlight),
	}
}

// admit lets a login of user from source check its password, or returns
// how long to wait. done must be called with the outcome when admitted.
func (l *loginLimits) admit(source, user string) (done func(failed bool), wait time.Duration, ok bool) {
	if ok, wait := l.sources.Peek(source); !ok {
		l.refused.Add(1)
		return nil, wait, false
	}
	if ok, wait := l.users.Peek(user); !ok {
		l.refused.Add(1)
		return nil, wait, false
	}
	if !l.sourceBusy.Acquire(source) {
		l.refused.Add(1)
		return nil, time.Second, false
	}
	if !l.userBusy.Acquire(user) {
		l.sourceBusy.Release(source)
		l.refused.Add(1)
		return nil, time.Second, false
	}
	l.checks.Add(1)
	return func(failed bool) {
		if failed {
			l.sources.Spend(source)
			l.users.Spend(user)
		}
		l.userBusy.Release(user)
		l.sourceBusy.Release(source)
	}, 0, true
}

// LoginStats are the counters of the login limits.
type LoginStats struct {
	// Checked counts password checks admitted; Refused attempts refused
	// before their password was checked.
	Checked, Refused uint64
}

// LoginStats returns the counters of the login limits.
func (h *Handler) LoginStats() LoginStats {
	if h.limits == nil || h.limits.login == nil {
		return LoginStats{}
	}
	return LoginStats{Checked: h.limits.login.checks.Load(), Refused: h.limits.login.refused.Load()}
}
