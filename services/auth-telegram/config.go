package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/communicator/communicator/authhttp"
	"github.com/communicator/communicator/vault"
)

// config is auth-telegram's configuration, read once per isolate from its
// vars and secrets.
type config struct {
	Environment string
	Sealer      *vault.Sealer
	APIKeys     authhttp.APIKeys
	Lifetime    time.Duration
	// Problems names every bad or missing variable (never its value). While
	// any is listed, session routes and RPC methods answer UNAVAILABLE.
	Problems []string
}

func (c *config) ok() bool { return len(c.Problems) == 0 }

// problem is the error text of an unusable configuration.
func (c *config) problem() string {
	return "auth-telegram is not configured: " + strings.Join(c.Problems, "; ")
}

func parseConfig(getenv func(string) (string, bool)) *config {
	c := &config{Lifetime: vault.DefaultLifetime}
	c.Environment, _ = getenv("ENVIRONMENT")

	secret, _ := getenv("SESSION_SECRET")
	previous, _ := getenv("SESSION_SECRET_PREVIOUS")
	switch {
	case secret == "":
		c.Problems = append(c.Problems, "SESSION_SECRET is not set (a secret of at least 32 bytes)")
	default:
		var prev []byte
		if previous != "" {
			prev = []byte(previous)
		}
		s, err := vault.NewSealer([]byte(secret), prev)
		if err != nil {
			c.Problems = append(c.Problems, "SESSION_SECRET or SESSION_SECRET_PREVIOUS: "+err.Error())
		} else {
			c.Sealer = s
		}
	}

	if keys, ok := getenv("SERVICE_API_KEYS"); ok && keys != "" {
		k, err := authhttp.ParseAPIKeys(keys)
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
			c.Problems = append(c.Problems, fmt.Sprintf("SESSION_TTL: %q is not a duration such as 2160h", clip(v)))
		case d < time.Hour || d > 10*365*24*time.Hour:
			c.Problems = append(c.Problems, fmt.Sprintf("SESSION_TTL: %s is outside 1h..87600h", d))
		default:
			c.Lifetime = d
		}
	}
	return c
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
