package main

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const goodSecret = "q7Jm0x4bWbq2Tz8yHn3f1LkP9vR6sD5aE2uC4iO8pQ0="

func TestConfig(t *testing.T) {
	c := parseConfig(env(map[string]string{
		"SESSION_SECRET": goodSecret, "SESSION_TTL": "720h", "HTTP_SESSION_READS": "off", "ACCESS_LOG_RETENTION_DAYS": "30",
		"ACCESS_POLICY": `{"get_session":["ingestor-service"],"read_access_log":["ops"]}`, "LOGIN_TTL": "90s",
	}))
	if !c.ok() || c.Lifetime != 720*time.Hour || c.LoginLifetime != 90*time.Second || !c.SessionReadsOff || c.Retention != 30*24*time.Hour ||
		!c.Policy.Allows("read_access_log", "ops") || c.Policy.Allows("list_sessions", "ingestor-service") {
		t.Errorf("config = %+v", c)
	}
	if d := parseConfig(env(map[string]string{"SESSION_SECRET": goodSecret})); !d.ok() || d.SessionReadsOff || d.Retention != 90*24*time.Hour || !d.Policy.Allows("get_session", "ingestor-service") {
		t.Errorf("defaults = %+v", d)
	}
}

func TestConfigNamesEveryProblemAndNoSecret(t *testing.T) {
	weak := "password-password-password-password"
	c := parseConfig(env(map[string]string{
		"SESSION_SECRET": weak, "SERVICE_API_KEYS": `{"x": "not-a-hash"}`, "SESSION_TTL": "forever",
		"HTTP_SESSION_READS": "maybe", "ACCESS_LOG_RETENTION_DAYS": "0", "ACCESS_POLICY": `{"nope":[]}`, "LOGIN_TTL": "soon",
	}))
	msg := c.problem()
	for _, want := range []string{"SESSION_SECRET", "SERVICE_API_KEYS", "SESSION_TTL", "HTTP_SESSION_READS", "ACCESS_LOG_RETENTION_DAYS", "ACCESS_POLICY", "LOGIN_TTL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%s is not named: %s", want, msg)
		}
	}
	if strings.Contains(msg, weak) || strings.Contains(msg, "password-") {
		t.Errorf("the secret is in the message: %s", msg)
	}
	for _, ttl := range []string{"0s", "2h"} {
		if c := parseConfig(env(map[string]string{"SESSION_SECRET": goodSecret, "LOGIN_TTL": ttl})); c.ok() || !strings.Contains(c.problem(), "LOGIN_TTL") {
			t.Errorf("LOGIN_TTL=%s: %v", ttl, c.Problems)
		}
	}
	if c := parseConfig(env(map[string]string{})); c.ok() || !strings.Contains(c.problem(), "SESSION_SECRET is not set") {
		t.Errorf("missing secret: %v", c.Problems)
	}
}

// A weak SESSION_SECRET is refused with the rule it fails; a weak
// SESSION_SECRET_PREVIOUS only opens, so it is accepted with a warning.
func TestConfigSecretRules(t *testing.T) {
	weak := strings.Repeat("0123456789", 7)
	c := parseConfig(env(map[string]string{"SESSION_SECRET": weak}))
	if c.ok() || !strings.Contains(c.problem(), "SESSION_SECRET repeats itself") || strings.Contains(c.problem(), weak[:10]) {
		t.Errorf("weak secret: %v", c.Problems)
	}
	c = parseConfig(env(map[string]string{"SESSION_SECRET": goodSecret, "SESSION_SECRET_PREVIOUS": weak}))
	if !c.ok() || c.Sealer.PreviousKeyID() == "" {
		t.Fatalf("weak previous secret: %v", c.Problems)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "SESSION_SECRET_PREVIOUS repeats itself") || strings.Contains(c.Warnings[0], weak[:10]) {
		t.Errorf("warnings %q", c.Warnings)
	}
	if c := parseConfig(env(map[string]string{"SESSION_SECRET": goodSecret})); len(c.Warnings) != 0 {
		t.Errorf("warnings %q", c.Warnings)
	}
}
