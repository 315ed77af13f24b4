package ingest

import (
	"strconv"
	"strings"
	"time"

	"github.com/communicator/communicator/internal/errtext"
)

// Config is the ingestion's settings.
type Config struct {
	// Shards is how many message databases there are (INGEST_SHARDS);
	// new accounts are spread over them.
	Shards int
	// HistoryLimit is how many messages per dialog are kept, newest first
	// (INGEST_HISTORY_LIMIT; 0: everything).
	HistoryLimit int
	// Interval is how long after a finished sync the next one starts
	// (INGEST_INTERVAL).
	Interval time.Duration
	// PagesPerSlice and RowsPerSlice bound one slice: Telegram requests and
	// stored rows. With one D1 batch of a few statements per page, a slice
	// stays far from a Worker invocation's 1,000 D1 queries.
	PagesPerSlice, RowsPerSlice int
	// Lease is how long a slice holds its account before another may take
	// over (longer than any slice takes).
	Lease time.Duration
	// InFlight is how many history pages a slice requests at once on its
	// one connection (different dialogs).
	InFlight int
}

// Defaults of Config.
const (
	DefaultHistoryLimit  = 10_000
	DefaultInterval      = time.Hour
	DefaultPagesPerSlice = 100
	DefaultRowsPerSlice  = 10_000
	DefaultLease         = 5 * time.Minute
	DefaultInFlight      = 4
	// PageSize is Telegram's most messages per messages.getHistory call.
	PageSize = 100
	// DialogsPageSize is how many dialogs one messages.getDialogs asks for.
	DialogsPageSize = 100
	maxShards       = 100
)

// The variables ParseConfig reads.
const (
	EnvShards       = "INGEST_SHARDS"
	EnvHistoryLimit = "INGEST_HISTORY_LIMIT"
	EnvInterval     = "INGEST_INTERVAL"
)

// ConfigError lists every bad variable; each problem starts with its name.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string { return strings.Join(e.Problems, "; ") }

// ParseConfig reads INGEST_SHARDS (1 to 100, default 1), INGEST_HISTORY_LIMIT
// (0 or more, default 10,000) and INGEST_INTERVAL (a Go duration from 1m to
// 168h, default 1h).
func ParseConfig(lookup func(string) (string, bool)) (Config, error) {
	c := Config{Shards: 1, HistoryLimit: DefaultHistoryLimit, Interval: DefaultInterval}
	c.fill()
	var problems []string
	if v, _ := lookup(EnvShards); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxShards {
			problems = append(problems, EnvShards+" must be a whole number from 1 to "+strconv.Itoa(maxShards)+", got "+errtext.Quote(v, 32))
		} else {
			c.Shards = n
		}
	}
	if v, _ := lookup(EnvHistoryLimit); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			problems = append(problems, EnvHistoryLimit+" must be a whole number, 0 for everything, got "+errtext.Quote(v, 32))
		} else {
			c.HistoryLimit = n
		}
	}
	if v, _ := lookup(EnvInterval); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 168*time.Hour {
			problems = append(problems, EnvInterval+" must be a duration from 1m to 168h, got "+errtext.Quote(v, 32))
		} else {
			c.Interval = d
		}
	}
	if problems != nil {
		return c, &ConfigError{Problems: problems}
	}
	return c, nil
}

// fill sets the zero fields to their defaults.
func (c *Config) fill() {
	if c.Shards < 1 {
		c.Shards = 1
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.PagesPerSlice <= 0 {
		c.PagesPerSlice = DefaultPagesPerSlice
	}
	if c.RowsPerSlice <= 0 {
		c.RowsPerSlice = DefaultRowsPerSlice
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.InFlight <= 0 {
		c.InFlight = DefaultInFlight
	}
}
