// Package server is kmsd's composition root: it opens the store and the
// keyring, builds the services and the API handler, and owns the
// http.Server. Tests call New and Serve with a listener bound to
// 127.0.0.1:0.
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/kmsd/kmsd/internal/api"
	"github.com/kmsd/kmsd/internal/audit"
	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/console"
	"github.com/kmsd/kmsd/internal/hsm"
	"github.com/kmsd/kmsd/internal/iam"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/metrics"
	"github.com/kmsd/kmsd/internal/region"
	"github.com/kmsd/kmsd/internal/store"
)

// tokenKeyLabel derives the token-signing key from the root key, so every
// node sharing the root key verifies every node's tokens.
const tokenKeyLabel = "kmsd token signing v1"

// Server is a running kmsd.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	store   store.Store
	tls     *tls.Config // nil: plain HTTP
	KMS     *kms.Service
	IAM     *iam.Service
	Handler *api.Handler
	authn   *auth.Authenticator
	// tokens are the open HSMs of cfg.HSMClusters.
	tokens []*hsm.Token
	// peerHandler serves the peer protocol of multi-region keys; nil
	// without peer regions.
	peerHandler http.Handler
	// Console is the web console, nil when it is off.
	Console *console.Handler
	// Audit is the node's audit trail (nil when audit.mode is off).
	Audit *audit.Log
	// Metrics are the server's Prometheus collectors.
	Metrics *metrics.Metrics
	metrics *metrics.Metrics
	keyring *keyring.Keyring
	// rootGen is the generation of root_key; genPoke makes the node read
	// the generation the database seals under now (rotate.go).
	rootGen uint32
	genPoke chan struct{}
}

// Options are what New needs besides the configuration.
type Options struct {
	// Logger receives the server's logs (discarded when nil).
	Logger *slog.Logger
	// Getenv reads environment variables (os.Getenv when nil).
	Getenv func(string) string
	// AuditOpenFile opens audit segment files (os.OpenFile when nil);
	// tests fill the disk with it.
	AuditOpenFile func(path string) (audit.File, error)
	// NoAudit opens no audit trail: for the admin commands, which work on
	// the store beside a serving process that owns the node's chain (a
	// chain has exactly one writer) and serve no requests.
	NoAudit bool
}

// New opens the store and the root key named by cfg and builds the
// services. The caller must Close the server.
func New(ctx context.Context, cfg config.Config, opt Options) (*Server, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Getenv == nil {
		opt.Getenv = os.Getenv
	}
	// The certificate is loaded here, not in Serve, so that a bad one
	// stops the start before the server says it listens.
	var tlsConfig *tls.Config
	if cfg.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, CipherSuites: tls12Suites}
	}
	db, err := OpenStore(ctx, cfg, opt.Getenv)
	if err != nil {
		return nil, err
	}
	m := metrics.New()
	// The services see the store through a counter of its own failures;
	// Close and readiness use it directly.
	var st store.Store = countingStore{Store: db, m: m}
	kr, rootGen, err := openKeyring(ctx, db, cfg, opt.Getenv, opt.Logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	tokens, err := auth.NewTokenSigner(kr.Derive(tokenKeyLabel, 32))
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &Server{cfg: cfg, log: opt.Logger, store: db, tls: tlsConfig, Metrics: m, metrics: m, keyring: kr, rootGen: rootGen, genPoke: make(chan struct{}, 1)}
	hsms, err := s.openHSMClusters()
	if err != nil {
		s.Close()
		return nil, err
	}
	kcfg := kms.Config{Region: cfg.Region, CMKQuota: cfg.Quotas.CMK, GrantQuota: cfg.Quotas.GrantPerCMK, Tokens: hsms}
	peers, err := s.regionPeers()
	if err != nil {
		s.Close()
		return nil, err
	}
	if peers != nil {
		kcfg.Peers = peers
	}
	s.IAM = iam.New(st, kr, opt.Logger)
	s.KMS = kms.New(st, kr, kcfg, opt.Logger)
	if peers != nil {
		s.peerHandler = region.Handler(s.KMS, peers.Regions(), opt.Logger)
	}
	if len(cfg.Attestation.Command) > 0 {
		s.KMS.SetAttestationVerifier(commandVerifier{argv: cfg.Attestation.Command, timeout: cfg.Attestation.Timeout.Duration})
	}
	s.authn = auth.NewAuthenticator(s.IAM, tokens)
	if cfg.Security.ReplayCache {
		s.authn.Replay = auth.NewReplayCache(cfg.Security.ReplayCacheEntries)
	}
	if opt.NoAudit {
		cfg.Audit.Mode = string(audit.ModeOff)
	}
	if s.Audit, err = openAudit(cfg, nodeSealer{kr, rootGen}, opt.AuditOpenFile, m.ObserveAuditSync); err != nil {
		db.Close()
		return nil, err
	}
	m.KMS(s.KMS)
	if gc, ok := store.As[store.GroupCommitter](db); ok {
		m.GroupCommits(gc)
	}
	if s.Audit != nil {
		m.AuditTrail(s.Audit)
	}
	if sc, ok := any(db).(interface {
		KeyStateCounts(context.Context) (map[string]int, error)
	}); ok {
		m.KeyStates(func(ctx context.Context) (map[string]int, error) {
			counts, err := sc.KeyStateCounts(ctx)
			for _, st := range []string{store.StateEnabled, store.StateDisabled, store.StatePendingDeletion, store.StatePendingImport} {
				if _, ok := counts[st]; !ok && err == nil {
					counts[st] = 0 // every state has a series, zero included
				}
			}
			return counts, err
		}, stateName)
	}
	s.Handler = api.New(s.KMS, s.IAM, s.authn, tokens, opt.Logger, api.Config{TokenTTL: cfg.Tokens.TTL.Duration, ListAliases: cfg.Compat.ListAliases, BodyBudget: cfg.Bodies.Budget, BodyWait: cfg.Bodies.Wait.Duration, Audit: s.Audit, Observer: m, Throttle: throttleConfig(cfg.Throttle)})
	if cfg.Console.Enabled {
		var auditDir string
		if s.Audit != nil {
			auditDir = cfg.AuditChainDir()
		}
		issuer := &iam.TokenIssuer{IAM: s.IAM, Signer: tokens, TTL: cfg.Tokens.TTL.Duration, Now: time.Now}
		s.Console, err = console.New(console.Config{Path: cfg.Console.Path, Secure: tlsConfig != nil, AuditDir: auditDir}, s.Handler, s.authn, issuer, opt.Logger)
		if err != nil {
			s.Close()
			return nil, err
		}
	}
	if cfg.Bootstrap != "" {
		if err := s.applyBootstrap(ctx, cfg.Bootstrap, cfg.Dir, opt.Getenv); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// openAudit opens the node's audit chain (nil when audit is off), with its
// checkpoint signing key sealed under the root key.
func openAudit(cfg config.Config, kr audit.Sealer, open func(string) (audit.File, error), observe func(time.Duration)) (*audit.Log, error) {
	mode, err := audit.ParseMode(cfg.Audit.Mode)
	if err != nil || mode == audit.ModeOff {
		return nil, err
	}
	dir := cfg.AuditChainDir()
	key, err := audit.LoadSigningKey(dir, cfg.NodeID, kr)
	if err != nil {
		return nil, err
	}
	return audit.Open(audit.Options{Dir: dir, Node: cfg.NodeID, Mode: mode, Key: key, SegmentSize: cfg.Audit.SegmentSize, CheckpointInterval: cfg.Audit.CheckpointInterval.Duration, OpenFile: open, ObserveSync: observe})
}

// throttleConfig is the API layer's view of the throttle configuration.
func throttleConfig(t config.Throttle) api.ThrottleConfig {
	rate := func(r config.Rate) api.Rate {
		return api.Rate{UserRPS: r.UserRPS, ProjectRPS: r.ProjectRPS, Burst: r.Burst}
	}
	return api.ThrottleConfig{
		Enabled: t.Enabled, Crypto: rate(t.Crypto), Management: rate(t.Management), Read: rate(t.Read),
		Login: api.LoginLimits{FailuresPerSource: t.Login.FailuresPerSource, FailuresPerUser: t.Login.FailuresPerUser, FailureRefill: t.Login.FailureRefill.Duration, InFlight: t.Login.InFlight},
	}
}

// stateName is the metric label of a store key state.
func stateName(state string) string {
	switch state {
	case store.StateEnabled:
		return "enabled"
	case store.StateDisabled:
		return "disabled"
	case store.StatePendingDeletion:
		return "pending_deletion"
	case store.StatePendingImport:
		return "pending_import"
	}
	return "state_" + state
}

func (s *Server) applyBootstrap(ctx context.Context, path, dir string, getenv func(string) string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	defer f.Close()
	b, err := iam.ParseBootstrap(f)
	if err != nil {
		return err
	}
	b.ResolvePaths(dir)
	if err := s.IAM.ApplyBootstrap(ctx, b, getenv); err != nil {
		return err
	}
	return s.applyKeySpaces(ctx, b)
}

// applyKeySpaces creates the bootstrap file's key spaces that their
// projects lack, by name; existing ones are left as they are.
func (s *Server) applyKeySpaces(ctx context.Context, b iam.Bootstrap) error {
	for _, ba := range b.Accounts {
		if !slices.ContainsFunc(ba.Projects, func(p iam.BootstrapProject) bool { return len(p.KeySpaces) > 0 }) {
			continue
		}
		a, err := s.IAM.Account(ctx, ba.Name)
		if err != nil {
			return err
		}
		projects, err := s.IAM.ListProjects(ctx, a.ID)
		if err != nil {
			return err
		}
		for _, bp := range ba.Projects {
			i := slices.IndexFunc(projects, func(p store.Project) bool { return p.Name == bp.Name })
			if i < 0 {
				continue
			}
			for _, bk := range bp.KeySpaces {
				err := s.KMS.EnsureKeySpace(ctx, kms.CreateKeySpaceInput{ProjectID: projects[i].ID, Name: bk.Name, Type: bk.Type,
					KeystoreID: bk.KeystoreID, Description: bk.Description})
				if err != nil {
					return fmt.Errorf("bootstrap key space %s/%s/%s: %w", ba.Name, bp.Name, bk.Name, err)
				}
			}
		}
	}
	return nil
}

// LoadRootKey reads the root key from the source cfg names.
func LoadRootKey(cfg config.Config, getenv func(string) string) ([]byte, error) {
	if cfg.RootKey.File != "" {
		return keyring.LoadRootKeyFile(cfg.RootKey.File)
	}
	if cfg.RootKey.Source == config.SourcePKCS11 {
		return loadPKCS11RootKey(cfg)
	}
	pass, err := LoadPassphrase(cfg, getenv)
	if err != nil {
		return nil, err
	}
	defer clear(pass)
	b, err := os.ReadFile(cfg.PassphraseParamsPath())
	if err != nil {
		return nil, fmt.Errorf("root key passphrase parameters (run kmsd init): %w", err)
	}
	var params keyring.PassphraseParams
	if err := json.Unmarshal(b, &params); err != nil {
		return nil, fmt.Errorf("root key passphrase parameters: %w", err)
	}
	return params.Derive(pass)
}

// LoadPassphrase reads the root key passphrase from the environment
// variable or file cfg names.
func LoadPassphrase(cfg config.Config, getenv func(string) string) ([]byte, error) {
	var pass []byte
	var source string // where the passphrase comes from, for errors
	switch rk := cfg.RootKey; {
	case rk.PassphraseEnv != "":
		pass = []byte(getenv(rk.PassphraseEnv))
		source = "the environment variable " + rk.PassphraseEnv
	case rk.PassphraseFile != "":
		b, err := os.ReadFile(rk.PassphraseFile)
		if err != nil {
			return nil, fmt.Errorf("root key passphrase: %w", err)
		}
		pass = []byte(trimNewline(string(b)))
		source = "the file " + rk.PassphraseFile
	default:
		return nil, errors.New("no root key source configured")
	}
	if len(pass) == 0 {
		return nil, fmt.Errorf("root key passphrase is empty: put it in %s (root_key in the configuration)", source)
	}
	return pass, nil
}

func trimNewline(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// tls12Suites are the cipher suites offered with TLS 1.2: ECDHE key
// exchange (forward secrecy) with an AEAD only, as Mozilla's
// "intermediate" configuration. Go's defaults would add the CBC suites
// with HMAC-SHA1. TLS 1.3 suites are all AEAD and not configurable.
// HTTP/2 is not offered: the listener is wrapped here, without "h2" in
// NextProtos.
var tls12Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// Serve serves HTTP (or HTTPS when TLS is configured) on ln until ctx is
// done, then shuts down gracefully, letting requests in flight finish for
// up to shutdown_timeout (10 seconds by default); connections still open
// then are closed, and the error says how many and in what state.
// Background jobs (key deletion and rotation) run while it serves.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	conns := newConnTracker()
	var root http.Handler = s.HTTPHandler()
	if s.cfg.Metrics.Listen == "" {
		root = s.opsHandler(root)
	} else {
		ops, err := net.Listen("tcp", s.cfg.Metrics.Listen)
		if err != nil {
			return fmt.Errorf("metrics.listen %s: %w", s.cfg.Metrics.Listen, err)
		}
		opsServer := &http.Server{Handler: s.opsHandler(nil), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
		go opsServer.Serve(ops)
		defer opsServer.Close()
	}
	hs := &http.Server{
		Handler:           root,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    api.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ConnState:         conns.track,
	}
	if s.tls != nil {
		hs.TLSConfig = s.tls
		ln = tls.NewListener(ln, s.tls)
	} else {
		ln = jsonErrorListener{Listener: ln, response: s.Handler.HeadersTooLargeResponse}
	}
	// Background jobs stop with Serve, and Serve waits for them, so the
	// store is never closed under a running job.
	jobs, stopJobs := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stopJobs()
		wg.Wait()
	}()
	wg.Go(func() { s.KMS.RunDeletionJob(jobs, s.cfg.DeletionCheckInterval.Duration) })
	// Imported material expires on the deletion job's schedule.
	wg.Go(func() { s.KMS.RunImportExpiryJob(jobs, s.cfg.DeletionCheckInterval.Duration) })
	wg.Go(func() { s.KMS.RunRotationJob(jobs, s.cfg.RotationCheckInterval.Duration) })
	wg.Go(func() { s.watchChanges(jobs) })
	wg.Go(func() { s.followSealingGeneration(jobs) })

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	wait := s.cfg.ShutdownTimeout.Duration
	if wait <= 0 {
		wait = config.DefaultShutdownTimeout
	}
	s.log.Info("shutting down", "wait", wait.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wait)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		n, what := conns.describe()
		hs.Close()
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("shutdown: waited %s (shutdown_timeout) for requests to finish; closed %d connections still open: %s", wait, n, what)
		}
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// HTTPHandler is everything the server serves: the console under its
// path when it is on, the API everywhere else.
func (s *Server) HTTPHandler() http.Handler {
	if s.Console == nil && s.peerHandler == nil {
		return s.Handler
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.peerHandler != nil && region.IsPeerPath(r.URL.Path) {
			s.peerHandler.ServeHTTP(w, r)
			return
		}
		if s.Console != nil && s.Console.Owns(r.URL.Path) {
			s.Console.ServeHTTP(w, r)
			return
		}
		s.Handler.ServeHTTP(w, r)
	})
}

// FlushCaches drops the server's caches of keys and identities, so that
// it sees at once what another process (kmsd iam, kmsd key) changed in
// its store.
func (s *Server) FlushCaches() {
	s.KMS.InvalidateAll()
	s.IAM.Invalidate()
	select {
	case s.genPoke <- struct{}{}: // a rotation may have moved the sealing generation
	default:
	}
	s.log.Info("caches flushed: the store was changed by an admin command")
}

// Close writes the audit trail's last records and checkpoint, and
// releases the HSMs and the store.
func (s *Server) Close() error {
	var err error
	if s.Audit != nil {
		err = s.Audit.Close()
	}
	for _, t := range s.tokens {
		t.Close()
	}
	s.tokens = nil
	return errors.Join(err, s.store.Close())
}
