package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/postgres"
	"github.com/kmsd/kmsd/internal/store/sqlite"
)

// OpenStore opens the store that cfg.Database names: the SQLite file, or
// the PostgreSQL database whose DSN LoadDSN reads. Either applies the
// migrations it lacks.
func OpenStore(ctx context.Context, cfg config.Config, getenv func(string) string) (store.Store, error) {
	switch cfg.Database.Driver {
	case config.DriverPostgres:
		dsn, err := LoadDSN(cfg, getenv)
		if err != nil {
			return nil, err
		}
		return postgres.Open(ctx, dsn, postgres.Options{
			MaxConns:         cfg.Database.MaxConns,
			StatementTimeout: cfg.Database.StatementTimeout.Duration,
		})
	case config.DriverSQLite, "":
		return sqlite.Open(ctx, cfg.Database.Path)
	}
	return nil, fmt.Errorf("database.driver %q: want sqlite or postgres", cfg.Database.Driver)
}

// LoadDSN reads the PostgreSQL DSN from where cfg names it. Errors name
// the source, never the DSN.
func LoadDSN(cfg config.Config, getenv func(string) string) (string, error) {
	d := cfg.Database
	var dsn, source string
	switch {
	case d.DSN != "":
		return d.DSN, nil
	case d.DSNEnv != "":
		dsn, source = getenv(d.DSNEnv), "the environment variable "+d.DSNEnv
	case d.DSNFile != "":
		b, err := os.ReadFile(d.DSNFile)
		if err != nil {
			return "", fmt.Errorf("database.dsn_file: %w", err)
		}
		dsn, source = strings.TrimSpace(string(b)), "the file "+d.DSNFile
	default:
		return "", errors.New("database: driver postgres needs one of dsn, dsn_env, dsn_file")
	}
	if dsn == "" {
		return "", fmt.Errorf("the PostgreSQL DSN is empty: put it in %s (database in the configuration)", source)
	}
	return dsn, nil
}

// DescribeStore names the store for messages, without any secret: the
// SQLite path, or "(PostgreSQL)" for the database a DSN names.
func DescribeStore(cfg config.Config) string {
	if cfg.Database.Driver == config.DriverPostgres {
		return "(PostgreSQL)"
	}
	return cfg.Database.Path
}
