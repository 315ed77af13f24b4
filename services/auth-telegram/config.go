package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/communicator/communicator/accesspolicy"
	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/internal/errtext"
	"github.com/communicator/communicator/vault"
)

// config is auth-telegram's configuration, read once per isolate from its
// vars and secrets.
type config struct {
	Environment string
	Sealer      *vault.Sealer
	APIKeys     httpapi.APIKeys
	Lifetime    time.Duration
	Policy      accesspolicy.Policy
	// SessionReadsOff turns the HTTP session hand-out route off
	// (HTTP_SESSION_READS=off), once every caller uses the binding.
	SessionReadsOff bool
	// Retention is how long access-log rows are kept (ACCESS_LOG_RETENTION_DAYS).
	Retention time.Duration
	// LoginLifetime is how long a login may take (LOGIN_TTL).
	LoginLifetime time.Duration
	// telegram reports that Telegram is configured (main sets it).
	telegram bool
	// Problems names every bad or missing variable (never its value). While
	// any is listed, session routes and RPC methods answer UNAVAILABLE.
	Problems []string
	// Warnings name settings that work but should be fixed, such as a weak
	// SESSION_SECRET_PREVIOUS (never a value). main logs them.
	Warnings []string
}

func (c *config) ok() bool { return len(c.Problems) == 0 }

// problem is the error text of an unusable configuration.
func (c *config) problem() string {
	return "auth-telegram is not configured: " + strings.Join(c.Problems, "; ")
}

func parseConfig(getenv func(string) (string, bool)) *config {
	c := &config{Lifetime: vault.DefaultLifetime, Policy: vault.DefaultPolicy(), Retention: 90 * 24 * time.Hour, LoginLifetime: vault.DefaultLoginLifetime}
	c.Environment, _ = getenv("ENVIRONMENT")

	secret, _ := getenv("SESSION_SECRET")
	previous, _ := getenv("SESSION_SECRET_PREVIOUS")
	switch {
	case secret == "":
		c.Problems = append(c.Problems, "SESSION_SECRET is not set (32 random bytes in base64 or hex: `openssl rand -base64 32`)")
	default:
		var prev []byte
		if previous != "" {
			prev = []byte(previous)
		}
		s, err := vault.NewSealer([]byte(secret), prev)
		if err != nil {
			c.Problems = append(c.Problems, err.Error()) // it names the variable
		} else {
			c.Sealer = s
			c.Warnings = append(c.Warnings, s.Warnings()...)
		}
	}

	if keys, ok := getenv("SERVICE_API_KEYS"); ok && keys != "" {
		k, err := httpapi.ParseAPIKeys("SERVICE_API_KEYS", keys)
		if err != nil {
			c.Problems = append(c.Problems, err.Error())
		} else {
			c.APIKeys = k
		}
	}
	// Without SERVICE_API_KEYS the HTTP API refuses every authenticated call;
	// the binding still works. Health reports it.

	if v, ok := getenv("SESSION_TTL"); ok && v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			c.Problems = append(c.Problems, "SESSION_TTL: "+errtext.Quote(v, 32)+" is not a duration such as 2160h")
		case d < time.Hour || d > 10*365*24*time.Hour:
			c.Problems = append(c.Problems, fmt.Sprintf("SESSION_TTL: %s is outside 1h..87600h", d))
		default:
			c.Lifetime = d
		}
	}
	if v, ok := getenv("ACCESS_POLICY"); ok && v != "" {
		p, err := vault.ParsePolicy(v)
		if err != nil {
			c.Problems = append(c.Problems, err.Error())
		} else {
			c.Policy = p
		}
	}
	switch v, _ := getenv("HTTP_SESSION_READS"); v {
	case "", "on":
	case "off":
		c.SessionReadsOff = true
	default:
		c.Problems = append(c.Problems, "HTTP_SESSION_READS: "+errtext.Quote(v, 32)+" is neither on nor off")
	}
	if v, ok := getenv("LOGIN_TTL"); ok && v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			c.Problems = append(c.Problems, "LOGIN_TTL: "+errtext.Quote(v, 32)+" is not a duration such as 5m")
		case d < time.Second || d > time.Hour:
			c.Problems = append(c.Problems, fmt.Sprintf("LOGIN_TTL: %s is outside 1s..1h", d))
		default:
			c.LoginLifetime = d
		}
	}
	if v, ok := getenv("ACCESS_LOG_RETENTION_DAYS"); ok && v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 1 || days > 3650 {
			c.Problems = append(c.Problems, "ACCESS_LOG_RETENTION_DAYS: "+errtext.Quote(v, 32)+" is not a number of days from 1 to 3650")
		} else {
			c.Retention = time.Duration(days) * 24 * time.Hour
		}
	}
	return c
}

// err is the configuration's problems as one error (nil if there are none),
// each problem starting with its variable's name (httpapi.ConfigCheck).
func (c *config) err() error {
	errs := make([]error, len(c.Problems))
	for i, p := range c.Problems {
		errs[i] = errors.New(p)
	}
	return errors.Join(errs...)
}
