// Package config reads kmsd's configuration file. Parse is strict: an
// unknown key is an error, so a typo never silently falls back to a
// default. Secrets are never written inline: the file names an
// environment variable or a file that holds them.
package config

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the validated configuration of a kmsd server.
type Config struct {
	// Listen is the address to serve on (default 127.0.0.1:8443).
	Listen string `yaml:"listen"`
	// TLS names the server certificate and key (PEM files).
	TLS TLS `yaml:"tls"`
	// AllowInsecureHTTP permits plain HTTP on a non-loopback address.
	// Plain HTTP on loopback is always allowed.
	AllowInsecureHTTP bool `yaml:"allow_insecure_http"`
	// DataDir holds the database and, by default, the root key file.
	DataDir string `yaml:"data_dir"`
	// Database selects the store.
	Database Database `yaml:"database"`
	// RootKey names the source of the 256-bit root key.
	RootKey RootKey `yaml:"root_key"`
	// PreviousRootKeys name the root keys a root key rotation replaces
	// (kmsd rootkey rotate): the node opens what they sealed until the
	// rotation is done. Each names its source as root_key does.
	PreviousRootKeys []RootKey `yaml:"previous_root_keys"`
	// Region is reported as the realm of keys (default cn-north-4).
	Region string `yaml:"region"`
	// Quotas are the defaults for projects that set none.
	Quotas Quotas `yaml:"quotas"`
	// Tokens configures IAM tokens.
	Tokens Tokens `yaml:"tokens"`
	// Log configures logging.
	Log Log `yaml:"log"`
	// Bootstrap names a declarative identity file applied at start.
	Bootstrap string `yaml:"bootstrap"`
	// Seed names a seed file (keys with fixed ids and material, for test
	// environments) applied at start; see docs/seed.md.
	Seed string `yaml:"seed"`
	// DeletionCheckInterval is how often due key deletions run.
	DeletionCheckInterval Duration `yaml:"deletion_check_interval"`
	// RotationCheckInterval is how often keys due for automatic rotation
	// are rotated.
	RotationCheckInterval Duration `yaml:"rotation_check_interval"`
	// Bodies bounds the memory request bodies in flight hold.
	Bodies Bodies `yaml:"bodies"`
	// HSMClusters are the PKCS#11 tokens that dedicated keystores may
	// use (create-keystore's hsm_cluster_id names one).
	HSMClusters []HSMCluster `yaml:"hsm_clusters"`
	// Regions connects this region's cluster to the clusters of other
	// regions for multi-region keys.
	Regions Regions `yaml:"regions"`
	// ShutdownTimeout is how long a stop waits for requests in flight
	// before it closes the connections still open.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// Compat selects answers for particular clients.
	Compat Compat `yaml:"compat"`
	// Security enables optional protections beyond Huawei's behaviour.
	Security Security `yaml:"security"`
	// Attestation names the verifier of ECS and CCE access points.
	Attestation Attestation `yaml:"attestation"`
	// Console configures the web console (docs/console.md).
	Console Console `yaml:"console"`
	// NodeID names this node in audit records and names its audit chain
	// (default: the host name).
	NodeID string `yaml:"node_id"`
	// Audit configures the audit trail.
	Audit Audit `yaml:"audit"`
	// Metrics configures /metrics.
	Metrics Metrics `yaml:"metrics"`
	// Throttle configures request rate limits.
	Throttle Throttle `yaml:"throttle"`

	// Dir is the directory relative paths are resolved against: the
	// configuration file's (set by Parse, not a key of the file). The
	// bootstrap file's sk_file and password_file resolve against it too.
	Dir string `yaml:"-"`
}

// Security enables optional protections (docs/security.md).
type Security struct {
	// ReplayCache refuses a second signed request with the same signature
	// within the X-Sdk-Date window, per node (off by default: Huawei's
	// gateway documents no replay protection).
	ReplayCache bool `yaml:"replay_cache"`
	// ReplayCacheEntries bounds the signatures remembered (default
	// 262144); the oldest is forgotten first.
	ReplayCacheEntries int `yaml:"replay_cache_entries"`
}

// Attestation configures the verification of the attestation documents
// of ECS (type 1) and CCE (type 2) access points at
// DecryptDatakeyCapsule, whose formats Huawei does not publish
// (docs/compatibility.md). Without a command such decryptions are
// refused.
type Attestation struct {
	// Command is the program and its arguments run for each such
	// decryption, with a JSON document on standard input; exit status 0
	// admits the environment.
	Command []string `yaml:"command"`
	// Timeout bounds one run (default 5s, 1s–1m).
	Timeout Duration `yaml:"timeout"`
}

// DefaultAttestationTimeout bounds one run of the attestation command.
const DefaultAttestationTimeout = 5 * time.Second

// Compat selects answers for particular clients (docs/compatibility.md).
type Compat struct {
	// ListAliases is the shape of list-aliases answers: "auto" (the
	// default: the array to the official SDKs, by User-Agent, the
	// documented object to others), "object" or "array".
	ListAliases string `yaml:"list_aliases"`
}

// Bodies bounds the memory request bodies in flight hold together
// (docs/security.md).
type Bodies struct {
	// Budget is the bytes all bodies in flight may hold at once (default
	// 32 MiB, at least 1 MiB); each request takes its Content-Length, or
	// its operation's limit when sent chunked.
	Budget int64 `yaml:"budget"`
	// Wait is how long a request waits for budget before it is refused
	// 429 APIGW.0308 (default 2s, 1ms–1m).
	Wait Duration `yaml:"wait"`
}

// Console configures the web console.
type Console struct {
	// Enabled serves the console (default off; on in dev mode).
	Enabled bool `yaml:"enabled"`
	// Path is its URL prefix (default /console).
	Path string `yaml:"path"`
}

// Audit configures the audit trail (docs/audit.md).
type Audit struct {
	// Mode is required (default), best_effort or off.
	Mode string `yaml:"mode"`
	// Dir holds one chain per node, in Dir/NODE_ID (default
	// DATA_DIR/audit).
	Dir string `yaml:"dir"`
	// SegmentSize is the size in bytes after which a segment is closed
	// (default 64 MiB).
	SegmentSize int64 `yaml:"segment_size"`
	// CheckpointInterval is how often the chain head is signed (default
	// 1m).
	CheckpointInterval Duration `yaml:"checkpoint_interval"`
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	// Listen, when set, serves /metrics, /healthz and /readyz on their
	// own address; otherwise they share the API listener.
	Listen string `yaml:"listen"`
	// AllowRemote serves /metrics to non-loopback clients too.
	AllowRemote bool `yaml:"allow_remote"`
}

// Throttle configures per-user and per-project token buckets by
// operation class, and the limits on failed logins.
type Throttle struct {
	// Enabled turns the request rate limits on (default true; dev mode
	// false). The login limits are always on.
	Enabled    bool `yaml:"enabled"`
	Crypto     Rate `yaml:"crypto"`
	Management Rate `yaml:"management"`
	Read       Rate `yaml:"read"`
	// Login limits failed password logins.
	Login Login `yaml:"login"`
}

// Rate is a token bucket per user and per project: a sustained rate in
// requests per second and a burst.
type Rate struct {
	UserRPS    float64 `yaml:"user_rps"`
	ProjectRPS float64 `yaml:"project_rps"`
	Burst      int     `yaml:"burst"`
}

// Login limits password guessing on POST /v3/auth/tokens.
type Login struct {
	// FailuresPerSource and FailuresPerUser are how many failed logins a
	// source address or a user name may have in a burst before further
	// attempts are refused; one more is allowed every FailureRefill.
	FailuresPerSource int      `yaml:"failures_per_source"`
	FailuresPerUser   int      `yaml:"failures_per_user"`
	FailureRefill     Duration `yaml:"failure_refill"`
	// InFlight is how many password checks one source address or one
	// user name may have running or waiting at once.
	InFlight int `yaml:"in_flight"`
}

// Regions configures multi-region keys: this region's identity towards
// its peers and where they are.
type Regions struct {
	// CertFile and KeyFile are this region's certificate (its common
	// name or a DNS name is the region's name) and key, presented to
	// peers as a client certificate.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// CAFile is the CA that signs every region's certificate.
	CAFile string `yaml:"ca_file"`
	// Peers are the other regions.
	Peers []RegionPeer `yaml:"peers"`
}

// RegionPeer is another region's kmsd cluster.
type RegionPeer struct {
	// Region is the peer's region name, as replicate-key's
	// replica_region names it.
	Region string `yaml:"region"`
	// Endpoint is the peer's KMS endpoint, https://host:port.
	Endpoint string `yaml:"endpoint"`
}

// HSMCluster is a PKCS#11 token for dedicated keystores.
type HSMCluster struct {
	// ID is the hsm_cluster_id that clients give create-keystore.
	ID string `yaml:"id"`
	// Module is the PKCS#11 library.
	Module string `yaml:"module"`
	// TokenLabel names the token.
	TokenLabel string `yaml:"token_label"`
	// PinFile names a file holding the token's user PIN.
	PinFile string `yaml:"pin_file"`
}

// TLS names PEM files.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Database selects the store backend.
type Database struct {
	// Driver is "sqlite" (the default: one node, one file) or "postgres"
	// (any number of nodes sharing one PostgreSQL database).
	Driver string `yaml:"driver"`
	// Path is the SQLite database file (default DATA_DIR/kmsd.db).
	Path string `yaml:"path"`
	// DSN, DSNEnv and DSNFile name the PostgreSQL database: the DSN itself
	// (refused when it holds a password), the name of an environment
	// variable holding it, or a file holding it. Exactly one, for postgres.
	DSN     string `yaml:"dsn"`
	DSNEnv  string `yaml:"dsn_env"`
	DSNFile string `yaml:"dsn_file"`
	// MaxConns is the size of a node's PostgreSQL connection pool (0: the
	// larger of 4 and the number of CPUs).
	MaxConns int `yaml:"max_conns"`
	// StatementTimeout bounds every PostgreSQL statement (default 5s).
	StatementTimeout Duration `yaml:"statement_timeout"`
}

// Database drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// RootKey names exactly one root key source.
type RootKey struct {
	// File is a 32-byte binary key file of mode 0600 (kmsd init makes it).
	File string `yaml:"file"`
	// PassphraseEnv names an environment variable holding a passphrase;
	// the key is derived with Argon2id and the parameters in
	// DATA_DIR/root-key.params.json.
	PassphraseEnv string `yaml:"passphrase_env"`
	// PassphraseFile names a file holding the passphrase.
	PassphraseFile string `yaml:"passphrase_file"`
	// Source is "pkcs11" for a root key kept by an HSM; the other
	// sources are named by their own field and need no source.
	Source string `yaml:"source"`
	// Module is the PKCS#11 library (source pkcs11).
	Module string `yaml:"module"`
	// TokenLabel names the token (source pkcs11).
	TokenLabel string `yaml:"token_label"`
	// PinFile names a file holding the token's user PIN (source pkcs11).
	PinFile string `yaml:"pin_file"`
	// KeyLabel names the token's AES key that encrypts the root key,
	// kept in DATA_DIR/root-key.pkcs11 (source pkcs11).
	KeyLabel string `yaml:"key_label"`
	// ParamsFile is where the Argon2id parameters of a passphrase root
	// key live (default DATA_DIR/root-key.params.json); a new root key of
	// a rotation needs a file of its own.
	ParamsFile string `yaml:"params_file"`
	// WrappedKeyFile is where a pkcs11 root key's encrypted root key lives
	// (default DATA_DIR/root-key.pkcs11); a new root key of a rotation
	// needs a file of its own.
	WrappedKeyFile string `yaml:"wrapped_key_file"`
}

// SourcePKCS11 is RootKey.Source for a root key kept by a PKCS#11 token.
const SourcePKCS11 = "pkcs11"

// validate checks one root key source; name is its place in the file.
func (rk RootKey) validate(name string) []error {
	var errs []error
	n := 0
	for _, s := range []string{rk.File, rk.PassphraseEnv, rk.PassphraseFile} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		errs = append(errs, fmt.Errorf("%s: set exactly one of file, passphrase_env, passphrase_file", name))
	}
	switch rk.Source {
	case "":
		if rk.Module != "" || rk.TokenLabel != "" || rk.PinFile != "" || rk.KeyLabel != "" || rk.WrappedKeyFile != "" {
			errs = append(errs, fmt.Errorf("%s: module, token_label, pin_file, key_label and wrapped_key_file need source: pkcs11", name))
		}
	case SourcePKCS11:
		if n > 0 {
			errs = append(errs, fmt.Errorf("%s: source pkcs11 takes module, token_label, pin_file and key_label, not file or a passphrase", name))
		}
		if rk.Module == "" || rk.TokenLabel == "" || rk.PinFile == "" || rk.KeyLabel == "" {
			errs = append(errs, fmt.Errorf("%s: source pkcs11 needs module, token_label, pin_file and key_label", name))
		}
	default:
		errs = append(errs, fmt.Errorf("%s.source %q: want pkcs11 (a file or passphrase root key needs no source)", name, rk.Source))
	}
	if rk.ParamsFile != "" && rk.PassphraseEnv == "" && rk.PassphraseFile == "" {
		errs = append(errs, fmt.Errorf("%s: params_file is for a passphrase root key (passphrase_env or passphrase_file)", name))
	}
	return errs
}

// Quotas are per-project defaults.
type Quotas struct {
	CMK         int `yaml:"cmk"`
	GrantPerCMK int `yaml:"grant_per_cmk"`
}

// Tokens configures IAM tokens.
type Tokens struct {
	// TTL is the lifetime of issued tokens (default 24h, as Huawei's).
	TTL Duration `yaml:"ttl"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error (default info).
	Level string `yaml:"level"`
	// Format is json, text or auto (default: text on a terminal, JSON
	// otherwise).
	Format string `yaml:"format"`
}

// Duration is a time.Duration written as "24h", "30s", ….
type Duration struct{ time.Duration }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	d.Duration = v
	return nil
}

// Defaults in one place.
const (
	DefaultListen   = "127.0.0.1:8443"
	DefaultRegion   = "cn-north-4"
	DefaultTokenTTL = 24 * time.Hour
	DefaultCMKQuota = 20
	DefaultGrants   = 100
	DefaultDeletion = time.Minute
	DefaultRotation = time.Minute
	// DefaultStatementTimeout bounds a PostgreSQL statement.
	DefaultStatementTimeout = 5 * time.Second
	// DefaultBodyBudget and DefaultBodyWait are api's defaults.
	DefaultBodyBudget = 32 << 20
	DefaultBodyWait   = 2 * time.Second
	DefaultConsole    = "/console"
	// DefaultShutdownTimeout is how long a stop waits for requests.
	DefaultShutdownTimeout = 10 * time.Second

	DefaultAuditMode          = "required"
	DefaultSegmentSize        = 64 << 20
	DefaultCheckpointInterval = time.Minute
)

// Default rate limits (docs/operations.md): per user and per project, by
// operation class.
var (
	DefaultCryptoRate     = Rate{UserRPS: 1000, ProjectRPS: 2000, Burst: 2000}
	DefaultManagementRate = Rate{UserRPS: 20, ProjectRPS: 50, Burst: 50}
	DefaultReadRate       = Rate{UserRPS: 100, ProjectRPS: 300, Burst: 300}
	DefaultLogin          = Login{FailuresPerSource: 10, FailuresPerUser: 5, FailureRefill: Duration{30 * time.Second}, InFlight: 2}
)

// Default returns the configuration used when a file sets nothing.
func Default() Config {
	c := Config{
		Listen:                DefaultListen,
		Region:                DefaultRegion,
		Database:              Database{Driver: DriverSQLite, StatementTimeout: Duration{DefaultStatementTimeout}},
		Quotas:                Quotas{CMK: DefaultCMKQuota, GrantPerCMK: DefaultGrants},
		Tokens:                Tokens{TTL: Duration{DefaultTokenTTL}},
		Log:                   Log{Level: "info", Format: "auto"},
		DeletionCheckInterval: Duration{DefaultDeletion},
		RotationCheckInterval: Duration{DefaultRotation},
		Bodies:                Bodies{Budget: DefaultBodyBudget, Wait: Duration{DefaultBodyWait}},
		Console:               Console{Path: DefaultConsole},
		ShutdownTimeout:       Duration{DefaultShutdownTimeout},
		Compat:                Compat{ListAliases: "auto"},
		Attestation:           Attestation{Timeout: Duration{DefaultAttestationTimeout}},
		Audit:                 Audit{Mode: DefaultAuditMode, SegmentSize: DefaultSegmentSize, CheckpointInterval: Duration{DefaultCheckpointInterval}},
		Throttle:              Throttle{Enabled: true, Crypto: DefaultCryptoRate, Management: DefaultManagementRate, Read: DefaultReadRate, Login: DefaultLogin},
	}
	return c
}

// Parse reads a YAML configuration, applies defaults and validates it.
// Relative paths are resolved against baseDir.
func Parse(r io.Reader, baseDir string) (Config, error) {
	c := Default()
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	for i := range c.HSMClusters {
		for _, p := range []*string{&c.HSMClusters[i].Module, &c.HSMClusters[i].PinFile} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(baseDir, *p)
			}
		}
	}
	for _, p := range []*string{&c.Regions.CertFile, &c.Regions.KeyFile, &c.Regions.CAFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(baseDir, *p)
		}
	}
	for _, p := range []*string{&c.DataDir, &c.Database.Path, &c.Database.DSNFile, &c.TLS.CertFile, &c.TLS.KeyFile, &c.Bootstrap, &c.Audit.Dir, &c.Seed} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(baseDir, *p)
		}
	}
	for _, rk := range append([]*RootKey{&c.RootKey}, pointers(c.PreviousRootKeys)...) {
		for _, p := range []*string{&rk.File, &rk.PassphraseFile, &rk.Module, &rk.PinFile, &rk.ParamsFile, &rk.WrappedKeyFile} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(baseDir, *p)
			}
		}
	}
	c.Dir = baseDir
	c.fill()
	return c, c.Validate()
}

func pointers[T any](xs []T) []*T {
	out := make([]*T, len(xs))
	for i := range xs {
		out[i] = &xs[i]
	}
	return out
}

// Load parses the file at path.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	return Parse(f, filepath.Dir(path))
}

// fill derives paths that default from DataDir.
func (c *Config) fill() {
	if c.NodeID == "" {
		c.NodeID = hostNode()
	}
	if c.DataDir == "" {
		return
	}
	if c.Audit.Dir == "" {
		c.Audit.Dir = filepath.Join(c.DataDir, "audit")
	}
	if c.Database.Path == "" {
		c.Database.Path = filepath.Join(c.DataDir, "kmsd.db")
	}
	if c.RootKey.File == "" && c.RootKey.PassphraseEnv == "" && c.RootKey.PassphraseFile == "" && c.RootKey.Source == "" {
		c.RootKey.File = filepath.Join(c.DataDir, "root.key")
	}
}

// hostNode is the default node id: the host name, with characters a
// node id cannot hold replaced by "-".
func hostNode() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "node-1"
	}
	b := []byte(h)
	for i, c := range b {
		if !validNodeChar(c) {
			b[i] = '-'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	if b[0] == '.' {
		b[0] = '-'
	}
	return string(b)
}

func validNodeChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// AuditChainDir is the directory of this node's audit chain.
func (c Config) AuditChainDir() string { return filepath.Join(c.Audit.Dir, c.NodeID) }

// PassphraseParamsPath is where the Argon2id parameters of the passphrase
// root key c.RootKey live.
func (c Config) PassphraseParamsPath() string {
	if c.RootKey.ParamsFile != "" {
		return c.RootKey.ParamsFile
	}
	return filepath.Join(c.DataDir, "root-key.params.json")
}

// WrappedRootKeyPath is where the PKCS#11 root key c.RootKey's encrypted
// root key lives.
func (c Config) WrappedRootKeyPath() string {
	if c.RootKey.WrappedKeyFile != "" {
		return c.RootKey.WrappedKeyFile
	}
	return filepath.Join(c.DataDir, "root-key.pkcs11")
}

// WithRootKey returns c with rk as its root key, so that what reads the
// root key of a configuration reads rk (one of PreviousRootKeys).
func (c Config) WithRootKey(rk RootKey) Config {
	c.RootKey = rk
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir is required"))
	}
	if p := c.Console.Path; p == "" || p == "/" || p[0] != '/' || strings.HasSuffix(p, "/") || strings.HasPrefix(p, "/v1") || strings.HasPrefix(p, "/v3") || strings.HasPrefix(p, "/metrics") {
		errs = append(errs, fmt.Errorf("console.path %q: want a path such as /console, not / and not under the API's /v1.0, /v3 or /metrics", p))
	}
	errs = append(errs, c.Database.validate()...)
	errs = append(errs, c.RootKey.validate("root_key")...)
	for i, rk := range c.PreviousRootKeys {
		name := fmt.Sprintf("previous_root_keys[%d]", i)
		if rk.File == "" && rk.PassphraseEnv == "" && rk.PassphraseFile == "" && rk.Source == "" {
			errs = append(errs, fmt.Errorf("%s: name its source: file, passphrase_env, passphrase_file or source: pkcs11", name))
		}
		errs = append(errs, rk.validate(name)...)
	}
	seen := map[string]bool{}
	for i, h := range c.HSMClusters {
		if h.ID == "" || h.Module == "" || h.TokenLabel == "" || h.PinFile == "" {
			errs = append(errs, fmt.Errorf("hsm_clusters[%d]: id, module, token_label and pin_file are required", i))
		}
		if seen[h.ID] {
			errs = append(errs, fmt.Errorf("hsm_clusters[%d]: id %q is listed twice", i, h.ID))
		}
		seen[h.ID] = true
	}
	if rg := c.Regions; len(rg.Peers) > 0 {
		if rg.CertFile == "" || rg.KeyFile == "" || rg.CAFile == "" {
			errs = append(errs, errors.New("regions: peers need cert_file, key_file and ca_file"))
		}
		if c.TLS.CertFile == "" {
			errs = append(errs, errors.New("regions: peers need tls: they authenticate each other with certificates"))
		}
		names := map[string]bool{c.Region: true}
		for i, p := range rg.Peers {
			if p.Region == "" || !strings.HasPrefix(p.Endpoint, "https://") {
				errs = append(errs, fmt.Errorf("regions.peers[%d]: region and an https:// endpoint are required", i))
			}
			if names[p.Region] {
				errs = append(errs, fmt.Errorf("regions.peers[%d]: region %q is this region or listed twice", i, p.Region))
			}
			names[p.Region] = true
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("tls: cert_file and key_file go together"))
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		errs = append(errs, fmt.Errorf("listen %q: %w", c.Listen, err))
	} else if c.TLS.CertFile == "" && !c.AllowInsecureHTTP && !IsLoopback(host) {
		errs = append(errs, fmt.Errorf("listen %q: refusing plain HTTP on a non-loopback address; configure tls or set allow_insecure_http: true", c.Listen))
	}
	if c.Quotas.CMK < 1 || c.Quotas.GrantPerCMK < 1 {
		errs = append(errs, errors.New("quotas: cmk and grant_per_cmk must be at least 1"))
	}
	if c.Tokens.TTL.Duration < time.Minute || c.Tokens.TTL.Duration > 7*24*time.Hour {
		errs = append(errs, errors.New("tokens.ttl must be between 1m and 168h"))
	}
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level %q: want debug, info, warn or error", c.Log.Level))
	}
	if c.Log.Format != "json" && c.Log.Format != "text" && c.Log.Format != "auto" {
		errs = append(errs, fmt.Errorf("log.format %q: want json, text or auto", c.Log.Format))
	}
	if c.DeletionCheckInterval.Duration < time.Second {
		errs = append(errs, errors.New("deletion_check_interval must be at least 1s"))
	}
	if c.RotationCheckInterval.Duration < time.Second {
		errs = append(errs, errors.New("rotation_check_interval must be at least 1s"))
	}
	if c.Bodies.Budget < 1<<20 {
		errs = append(errs, errors.New("bodies.budget must be at least 1048576 (1 MiB)"))
	}
	if c.Bodies.Wait.Duration < time.Millisecond || c.Bodies.Wait.Duration > time.Minute {
		errs = append(errs, errors.New("bodies.wait must be between 1ms and 1m"))
	}
	if c.Security.ReplayCacheEntries < 0 || c.Security.ReplayCacheEntries > 1<<24 {
		errs = append(errs, errors.New("security.replay_cache_entries must be between 0 (the default) and 16777216"))
	}
	if c.ShutdownTimeout.Duration < time.Second || c.ShutdownTimeout.Duration > time.Hour {
		errs = append(errs, errors.New("shutdown_timeout must be between 1s and 1h"))
	}
	if c.Attestation.Timeout.Duration < time.Second || c.Attestation.Timeout.Duration > time.Minute {
		errs = append(errs, errors.New("attestation.timeout must be between 1s and 1m"))
	}
	if len(c.Attestation.Command) > 0 && c.Attestation.Command[0] == "" {
		errs = append(errs, errors.New("attestation.command: the program is empty"))
	}
	switch c.Compat.ListAliases {
	case "auto", "object", "array":
	default:
		errs = append(errs, fmt.Errorf("compat.list_aliases %q: want auto, object or array", c.Compat.ListAliases))
	}
	if n := c.NodeID; n == "" || len(n) > 64 || n[0] == '.' || strings.IndexFunc(n, func(r rune) bool { return r > 127 || !validNodeChar(byte(r)) }) >= 0 {
		errs = append(errs, fmt.Errorf("node_id %q: want 1 to 64 of A-Z a-z 0-9 . _ -, not starting with a dot", n))
	}
	switch c.Audit.Mode {
	case "required", "best_effort", "off":
	default:
		errs = append(errs, fmt.Errorf("audit.mode %q: want required, best_effort or off", c.Audit.Mode))
	}
	if c.Audit.SegmentSize < 4096 {
		errs = append(errs, errors.New("audit.segment_size must be at least 4096"))
	}
	if c.Audit.CheckpointInterval.Duration < time.Second {
		errs = append(errs, errors.New("audit.checkpoint_interval must be at least 1s"))
	}
	if c.Metrics.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			errs = append(errs, fmt.Errorf("metrics.listen %q: %w", c.Metrics.Listen, err))
		}
	}
	for name, r := range map[string]Rate{"crypto": c.Throttle.Crypto, "management": c.Throttle.Management, "read": c.Throttle.Read} {
		if r.UserRPS < 0 || r.ProjectRPS < 0 || r.Burst < 1 {
			errs = append(errs, fmt.Errorf("throttle.%s: user_rps and project_rps must be at least 0 (0: no limit), burst at least 1", name))
		}
	}
	if l := c.Throttle.Login; l.FailuresPerSource < 1 || l.FailuresPerUser < 1 || l.InFlight < 1 || l.FailureRefill.Duration <= 0 {
		errs = append(errs, errors.New("throttle.login: failures_per_source, failures_per_user and in_flight must be at least 1, failure_refill positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// validate checks the database section.
func (d Database) validate() []error {
	var errs []error
	n := 0
	for _, s := range []string{d.DSN, d.DSNEnv, d.DSNFile} {
		if s != "" {
			n++
		}
	}
	switch d.Driver {
	case DriverSQLite:
		if n > 0 {
			errs = append(errs, errors.New("database: dsn, dsn_env and dsn_file are for driver postgres"))
		}
	case DriverPostgres:
		if n != 1 {
			errs = append(errs, errors.New("database: driver postgres needs exactly one of dsn, dsn_env, dsn_file"))
		}
		if DSNHasPassword(d.DSN) {
			errs = append(errs, errors.New("database.dsn holds a password: put the DSN in a file (dsn_file) or an environment variable (dsn_env) instead"))
		}
	default:
		errs = append(errs, fmt.Errorf("database.driver %q: want sqlite or postgres", d.Driver))
	}
	if d.MaxConns < 0 {
		errs = append(errs, errors.New("database.max_conns must not be negative"))
	}
	if d.StatementTimeout.Duration < 0 {
		errs = append(errs, errors.New("database.statement_timeout must not be negative"))
	}
	return errs
}

// passwordKV finds a password in a keyword/value DSN.
var passwordKV = regexp.MustCompile(`(^|\s)password\s*=`)

// DSNHasPassword reports whether a PostgreSQL DSN, in URI or keyword/value
// form, carries a password.
func DSNHasPassword(dsn string) bool {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return true // unparsable: assume the worst
		}
		_, hasPass := u.User.Password()
		return hasPass || u.Query().Has("password")
	}
	return passwordKV.MatchString(dsn)
}

// IsLoopback reports whether host names a loopback address.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
