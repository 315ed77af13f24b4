// Package d1 is a database/sql driver over a Cloudflare D1 binding, so that
// domain code written against *sql.DB runs on D1 in a worker and on SQLite in
// native tests.
//
// D1 speaks SQLite with two differences that show through:
//
//   - Values cross as JavaScript values: integers are exact only up to ±2^53
//     (larger ones are refused when bound), blobs are bytes, booleans become
//     0/1. Integral numbers come back as int64, others as float64.
//   - There are no interactive transactions. A Tx is a write-only batch: Exec
//     statements are buffered and run atomically by Commit (D1's batch); a
//     Query inside a Tx is an error, and RowsAffected is known only after
//     Commit. Do reads outside transactions and group writes in them.
//
// Every call needs a context of the request it runs for (an http.Request's
// context in a fetch handler, the ctx of an RPC method).
package d1

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/communicator/communicator/workers/internal/bridge"
	"github.com/communicator/communicator/workers/internal/wire"
)

// Open returns a database over the D1 binding of that name (for example "DB").
// Create it once per isolate and share it.
func Open(binding string) *sql.DB { return sql.OpenDB(Connector{Binding: binding}) }

// Connector connects to a D1 binding.
type Connector struct{ Binding string }

func (c Connector) Connect(context.Context) (driver.Conn, error) {
	return &conn{binding: c.Binding}, nil
}
func (c Connector) Driver() driver.Driver { return Driver{} }

// Driver is registered as "d1"; its data source name is the binding's name.
type Driver struct{}

func (Driver) Open(name string) (driver.Conn, error) { return &conn{binding: name}, nil }

func init() { sql.Register("d1", Driver{}) }

// MaxInt is the largest integer magnitude D1 carries exactly.
const MaxInt = 1<<53 - 1

// Error is an error D1 reported (for example a constraint violation).
type Error struct{ Message string }

func (e *Error) Error() string { return "d1: " + e.Message }

var (
	errTxQuery = errors.New("d1: queries are not supported inside a transaction: a D1 transaction is a write-only batch run at Commit")
	errTxOpen  = errors.New("d1: a transaction is already open on this connection")
	errNamed   = errors.New("d1: named parameters are not supported; use ? placeholders")
)

const (
	modeQuery = 0
	modeExec  = 1
)

type conn struct {
	binding string
	tx      *tx
}

var (
	_ driver.QueryerContext    = (*conn)(nil)
	_ driver.ExecerContext     = (*conn)(nil)
	_ driver.ConnBeginTx       = (*conn)(nil)
	_ driver.NamedValueChecker = (*conn)(nil)
	_ driver.Pinger            = (*conn)(nil)
	_ driver.SessionResetter   = (*conn)(nil)
	_ driver.StmtQueryContext  = (*stmt)(nil)
	_ driver.StmtExecContext   = (*stmt)(nil)
	_ driver.RowsNextResultSet = (*rows)(nil)
	_ driver.Validator         = (*conn)(nil)
	_ driver.ColumnConverter   = (*stmt)(nil)
	_ driver.NamedValueChecker = (*stmt)(nil)
	_ driver.Result            = result{}
	_ driver.Tx                = (*tx)(nil)
	_ driver.Connector         = Connector{}
)

func (c *conn) Prepare(query string) (driver.Stmt, error) { return &stmt{c: c, query: query}, nil }
func (c *conn) Close() error                              { return nil }
func (c *conn) IsValid() bool                             { return c.tx == nil }
func (c *conn) ResetSession(context.Context) error {
	c.tx = nil
	return nil
}

func (c *conn) Begin() (driver.Tx, error) {
	return nil, errors.New("d1: use BeginTx with the request's context")
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.tx != nil {
		return nil, errTxOpen
	}
	if opts.ReadOnly {
		return nil, errors.New("d1: read-only transactions are not supported: a D1 transaction is a write-only batch")
	}
	c.tx = &tx{c: c, ctx: ctx}
	return c.tx, nil
}

func (c *conn) Ping(ctx context.Context) error {
	rows, err := c.QueryContext(ctx, "SELECT 1", nil)
	if err != nil {
		return err
	}
	return rows.Close()
}

// CheckNamedValue accepts what D1 can bind exactly.
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if nv.Name != "" {
		return errNamed
	}
	v, err := convert(nv.Value)
	if err != nil {
		err = fmt.Errorf("d1: parameter %d: %w", nv.Ordinal, err)
		if c.tx != nil {
			c.tx.err = err // a batch with a refused statement must not commit the rest
		}
		return err
	}
	nv.Value = v
	return nil
}

func convert(v any) (driver.Value, error) {
	if valuer, ok := v.(driver.Valuer); ok {
		vv, err := valuer.Value()
		if err != nil {
			return nil, err
		}
		v = vv
	}
	switch x := v.(type) {
	case nil, string, []byte, float64, bool:
		return x, nil
	case int64:
		return checkInt(x)
	case int:
		return checkInt(int64(x))
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint64:
		if x > MaxInt {
			return nil, fmt.Errorf("integer %d is beyond ±2^53-1, which D1 cannot carry exactly", x)
		}
		return int64(x), nil
	case uint:
		if uint64(x) > MaxInt {
			return nil, fmt.Errorf("integer %d is beyond ±2^53-1, which D1 cannot carry exactly", x)
		}
		return int64(x), nil
	case float32:
		return float64(x), nil
	case time.Time:
		return nil, errors.New("time.Time is not supported: store unix milliseconds (t.UnixMilli())")
	default:
		return nil, fmt.Errorf("unsupported type %T", v)
	}
}

func checkInt(x int64) (driver.Value, error) {
	if x > MaxInt || x < -MaxInt {
		return nil, fmt.Errorf("integer %d is beyond ±2^53-1, which D1 cannot carry exactly", x)
	}
	return x, nil
}

func writeParams(w *wire.Writer, args []driver.NamedValue) error {
	if len(args) > 100 {
		return fmt.Errorf("d1: %d parameters; D1 binds at most 100 per statement", len(args))
	}
	w.U32(uint32(len(args)))
	for _, a := range args {
		v, err := convert(a.Value)
		if err != nil {
			return fmt.Errorf("d1: parameter %d: %w", a.Ordinal, err)
		}
		switch x := v.(type) {
		case nil:
			w.U8(0)
		case int64:
			w.U8(1)
			w.F64(float64(x))
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("d1: parameter %d: %v cannot be stored", a.Ordinal, x)
			}
			w.U8(2)
			w.F64(x)
		case bool:
			w.U8(1)
			if x {
				w.F64(1)
			} else {
				w.F64(0)
			}
		case string:
			w.U8(3)
			w.String(x)
		case []byte:
			w.U8(4)
			w.Bytes(x)
		}
	}
	return nil
}

func (c *conn) do(ctx context.Context, mode byte, query string, args []driver.NamedValue) ([]byte, error) {
	var w wire.Writer
	w.String(c.binding)
	w.U8(mode)
	w.String(query)
	if err := writeParams(&w, args); err != nil {
		return nil, err
	}
	rep, err := bridge.Do(ctx, bridge.OpD1, w.Buf)
	if err != nil {
		return nil, err
	}
	if rep.Status != bridge.StatusOK {
		return nil, d1Error(rep.Payload)
	}
	return rep.Payload, nil
}

func d1Error(p []byte) error {
	r := wire.NewReader(p)
	_ = r.Bytes() // the JavaScript error's name
	return &Error{Message: r.String()}
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.tx != nil {
		return nil, errTxQuery
	}
	p, err := c.do(ctx, modeQuery, query, args)
	if err != nil {
		return nil, err
	}
	return newRows(p)
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.tx != nil {
		return c.tx.add(query, args)
	}
	p, err := c.do(ctx, modeExec, query, args)
	if err != nil {
		return nil, err
	}
	r := wire.NewReader(p)
	res := result{changes: int64(r.F64()), lastID: int64(r.F64())}
	return res, r.Err()
}

type stmt struct {
	c     *conn
	query string
}

func (s *stmt) Close() error                                    { return nil }
func (s *stmt) NumInput() int                                   { return -1 }
func (s *stmt) ColumnConverter(int) driver.ValueConverter       { return driver.DefaultParameterConverter }
func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error     { return s.c.CheckNamedValue(nv) }
func (s *stmt) Exec(args []driver.Value) (driver.Result, error) { return nil, errNoContext }
func (s *stmt) Query(args []driver.Value) (driver.Rows, error)  { return nil, errNoContext }

var errNoContext = errors.New("d1: use the Context variants of Exec and Query")

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.query, args)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.query, args)
}

type result struct{ changes, lastID int64 }

func (r result) LastInsertId() (int64, error) { return r.lastID, nil }
func (r result) RowsAffected() (int64, error) { return r.changes, nil }

// tx buffers the statements of a write-only batch.
type tx struct {
	c     *conn
	ctx   context.Context
	stmts wire.Writer
	n     uint32
	err   error
}

type pendingResult struct{}

func (pendingResult) LastInsertId() (int64, error) {
	return 0, errors.New("d1: LastInsertId is not known inside a transaction (a batch run at Commit)")
}
func (pendingResult) RowsAffected() (int64, error) {
	return 0, errors.New("d1: RowsAffected is not known inside a transaction (a batch run at Commit)")
}

func (t *tx) add(query string, args []driver.NamedValue) (driver.Result, error) {
	mark := len(t.stmts.Buf)
	t.stmts.String(query)
	if err := writeParams(&t.stmts, args); err != nil {
		t.stmts.Buf = t.stmts.Buf[:mark]
		t.err = err
		return nil, err
	}
	t.n++
	return pendingResult{}, nil
}

func (t *tx) Commit() error {
	t.c.tx = nil
	if t.err != nil {
		return fmt.Errorf("d1: transaction not committed: a statement was refused: %w", t.err)
	}
	if t.n == 0 {
		return nil
	}
	var w wire.Writer
	w.String(t.c.binding)
	w.U32(t.n)
	w.Buf = append(w.Buf, t.stmts.Buf...)
	rep, err := bridge.Do(t.ctx, bridge.OpD1Batch, w.Buf)
	if err != nil {
		return err
	}
	if rep.Status != bridge.StatusOK {
		return d1Error(rep.Payload)
	}
	return nil
}

// batch runs statements as one D1 batch and decodes every statement's result.
func (c *conn) batch(ctx context.Context, stmts []Statement) ([]Result, error) {
	var w wire.Writer
	w.String(c.binding)
	w.U32(uint32(len(stmts)))
	for i, st := range stmts {
		w.String(st.Query)
		args := make([]driver.NamedValue, len(st.Args))
		for j, a := range st.Args {
			args[j] = driver.NamedValue{Ordinal: j + 1, Value: a}
		}
		if err := writeParams(&w, args); err != nil {
			return nil, fmt.Errorf("statement %d: %w", i, err)
		}
	}
	rep, err := bridge.Do(ctx, bridge.OpD1Batch, w.Buf)
	if err != nil {
		return nil, err
	}
	if rep.Status != bridge.StatusOK {
		return nil, d1Error(rep.Payload)
	}
	r := wire.NewReader(rep.Payload)
	out := make([]Result, r.U32())
	for i := range out {
		out[i].RowsAffected = int64(r.F64())
		out[i].LastInsertID = int64(r.F64())
		rows, err := readRows(r)
		if err != nil {
			return nil, err
		}
		out[i].Columns = rows.cols
		dest := make([]driver.Value, len(rows.cols))
		for rows.Next(dest) == nil {
			row := make([]any, len(dest))
			for j, v := range dest {
				row[j] = v
			}
			out[i].Rows = append(out[i].Rows, row)
		}
		if r.Err() != nil {
			return nil, errors.New("d1: malformed batch result")
		}
	}
	return out, nil
}

func (t *tx) Rollback() error {
	t.c.tx = nil
	return nil
}

type rows struct {
	cols []string
	r    *wire.Reader
	left uint32
}

func newRows(p []byte) (*rows, error) { return readRows(wire.NewReader(p)) }

// readRows reads a result's columns and row count; its values follow, read by Next.
func readRows(r *wire.Reader) (*rows, error) {
	n := r.U32()
	if r.Err() != nil || int(n) > r.Len()/4 {
		return nil, errors.New("d1: malformed result")
	}
	cols := make([]string, n)
	for i := range cols {
		cols[i] = r.String()
	}
	left := r.U32()
	if r.Err() != nil {
		return nil, errors.New("d1: malformed result")
	}
	return &rows{cols: cols, r: r, left: left}, nil
}

func (r *rows) Columns() []string      { return r.cols }
func (r *rows) Close() error           { r.left = 0; return nil }
func (r *rows) HasNextResultSet() bool { return false }
func (r *rows) NextResultSet() error   { return io.EOF }

func (r *rows) Next(dest []driver.Value) error {
	if r.left == 0 {
		return io.EOF
	}
	r.left--
	for i := range r.cols {
		var v driver.Value
		switch r.r.U8() {
		case 0:
			v = nil
		case 1:
			f := r.r.F64()
			if f >= -MaxInt && f <= MaxInt {
				v = int64(f)
			} else {
				v = f
			}
		case 2:
			v = r.r.F64()
		case 3:
			v = r.r.String()
		case 4:
			v = r.r.Bytes()
		default:
			return errors.New("d1: malformed result: unknown value tag")
		}
		if i < len(dest) {
			dest[i] = v
		}
	}
	if r.r.Err() != nil {
		return errors.New("d1: malformed result")
	}
	return nil
}

// ColumnTypeDatabaseTypeName is unknown: D1 returns values, not column types.
func (r *rows) ColumnTypeDatabaseTypeName(int) string { return "" }
