package d1

import (
	"context"
	"database/sql"
	"strings"
)

// Statement is one statement of a Batch: SQL with ? placeholders and its
// arguments.
type Statement struct {
	Query string
	Args  []any
}

// Result is what one statement of a Batch returned: the rows of a query (a
// SELECT, or a statement with RETURNING), and the changes of a write.
type Result struct {
	Columns      []string
	Rows         [][]any // int64, float64, string, []byte or nil, as Scan would get them
	RowsAffected int64
	LastInsertID int64
}

// batcher is the optional interface of a connection that runs a batch in one
// round trip.
type batcher interface {
	batch(ctx context.Context, stmts []Statement) ([]Result, error)
}

// Batch runs statements atomically and returns what each returned; reads and
// writes may be mixed, and later statements see what earlier ones wrote. On D1
// it is one batch: one round trip, all or nothing. With any other database/sql
// driver (SQLite in tests) it is a transaction in which statements that start
// with SELECT or WITH, or contain RETURNING, are queried and the others
// executed.
//
// Over a batch, rows arrive as JavaScript objects: give every column of a
// query a distinct name that is not a number.
func Batch(ctx context.Context, db *sql.DB, stmts []Statement) ([]Result, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var out []Result
	handled := false
	err = c.Raw(func(dc any) error {
		b, ok := dc.(batcher)
		if !ok {
			return nil
		}
		handled = true
		out, err = b.batch(ctx, stmts)
		return err
	})
	if handled || err != nil {
		return out, err
	}
	return txBatch(ctx, c, stmts)
}

func returnsRows(q string) bool {
	t := strings.ToUpper(strings.TrimSpace(q))
	return strings.HasPrefix(t, "SELECT") || strings.HasPrefix(t, "WITH") || strings.Contains(t, "RETURNING")
}

func txBatch(ctx context.Context, c *sql.Conn, stmts []Statement) (out []Result, err error) {
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	out = make([]Result, len(stmts))
	for i, st := range stmts {
		if !returnsRows(st.Query) {
			res, err := tx.ExecContext(ctx, st.Query, st.Args...)
			if err != nil {
				return nil, err
			}
			out[i].RowsAffected, _ = res.RowsAffected()
			out[i].LastInsertID, _ = res.LastInsertId()
			continue
		}
		rows, err := tx.QueryContext(ctx, st.Query, st.Args...)
		if err != nil {
			return nil, err
		}
		cols, _ := rows.Columns()
		out[i].Columns = cols
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for j := range vals {
				ptrs[j] = &vals[j]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			out[i].Rows = append(out[i].Rows, vals)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return out, nil
}
