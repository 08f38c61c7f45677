package kms_test

import (
	"os"
	"testing"

	"github.com/kmsd/kmsd/internal/store/postgres/pgtest"
)

// TestMain stops the throwaway PostgreSQL server that BenchmarkCreateKey
// starts on first use.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
