package pgstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The schema, versioned: schema/NNN_name.sql, applied in order, each once,
// recorded in bjpay_schema. A transaction-scoped advisory lock makes
// replicas that start together apply each version once: the others wait,
// then find it applied.
//
//go:embed schema/*.sql
var schemaFS embed.FS

// migrationLock is the advisory lock key: "bjpay" in ASCII.
const migrationLock = 0x626a706179

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	files, err := fs.Glob(schemaFS, "schema/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, f := range files {
		base := strings.TrimPrefix(f, "schema/")
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("schema file %s: no version number", f)
		}
		b, err := fs.ReadFile(schemaFS, f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{n, base, string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrate brings the database's schema to the newest version and returns
// it. A database newer than this binary is refused: its schema may mean
// what this binary does not know.
func migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	ms, err := migrations()
	if err != nil {
		return 0, err
	}
	newest := ms[len(ms)-1].version
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS bjpay_schema (
			version    int PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM bjpay_schema").Scan(&current); err != nil {
			return err
		}
		if current > newest {
			return fmt.Errorf("the database's schema is version %d, newer than this bjpay-sandbox knows (%d): run a newer bjpay-sandbox", current, newest)
		}
		for _, m := range ms {
			if m.version <= current {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("schema %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO bjpay_schema (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
				return err
			}
		}
		return nil
	})
	return newest, err
}
