package apply_test

import (
	"os"
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/internal/pgtest"
)

// shared is the PostgreSQL the package's integration tests share.
var shared = pgtest.NewShared(pglocal.Options{})

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}
