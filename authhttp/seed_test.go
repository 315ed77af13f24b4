package authhttp

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fetchSessionLikeSeed replays what the earlier TypeScript ingestor's HTTP
// fallback client (its TelegramAuthClient.fetchSession; e2e/seedclient runs it)
// does, step by step, reading the response the way JavaScript would:
//
//	const url = `${this.config.endpoint}/sessions/user/${userId}`;
//	const response = await fetch(url, { method: 'GET', headers: {
//	  'Authorization': `ApiKey ${this.config.apiKey}`,
//	  'X-Service-ID': this.config.serviceId,
//	  'Content-Type': 'application/json' } });
//	if (!response.ok) { const errorText = await response.text(); throw ... }
//	const data = await response.json();
//	if (!data.success || !data.data) throw new Error(`... ${data.error?.message || 'Unknown error'}`);
//	return data.data;
//
// It returns data.data as JavaScript sees it, or the text of the Error the
// client would throw.
func fetchSessionLikeSeed(t *testing.T, hc *http.Client, endpoint, apiKey, serviceID string, userID int64) (map[string]any, string) {
	t.Helper()
	url := endpoint + "/sessions/user/" + strconv.FormatInt(userID, 10)
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "ApiKey "+apiKey)
	req.Header.Set("X-Service-ID", serviceID)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ok := resp.StatusCode >= 200 && resp.StatusCode <= 299; !ok {
		return nil, "Failed to get session: " + resp.Status + " - " + string(text)
	}
	var data map[string]any // response.json()
	if err := json.Unmarshal(text, &data); err != nil {
		t.Fatalf("response.json() would throw: %v", err)
	}
	success, _ := data["success"].(bool)
	inner, _ := data["data"].(map[string]any)
	if !success || inner == nil {
		msg := "Unknown error"
		if e, ok := data["error"].(map[string]any); ok {
			if m, ok := e["message"].(string); ok && m != "" {
				msg = m
			}
		}
		return nil, "Failed to get session: " + msg
	}
	return inner, ""
}

func TestSeedFallbackClient(t *testing.T) {
	h := newHarness(t)
	const userID = 123456789
	info := h.importRaw(userID, testSecret)

	// The endpoint exactly as the earlier TELEGRAM_AUTH_SERVICE_ENDPOINT had it.
	endpoint := h.srv.URL + "/api/telegram-auth"
	data, thrown := fetchSessionLikeSeed(t, h.srv.Client(), endpoint, testKey, testService, userID)
	if thrown != "" {
		t.Fatal(thrown)
	}
	if s, _ := data["sessionString"].(string); s != testSecret {
		t.Errorf("data.sessionString = %v", data["sessionString"])
	}
	if n, _ := data["userId"].(float64); n != userID { // a JavaScript number
		t.Errorf("data.userId = %#v", data["userId"])
	}
	exp, _ := data["expiresAt"].(string)
	if !isoRE.MatchString(exp) { // what new Date(...) parses, as toISOString writes it
		t.Errorf("data.expiresAt = %q", exp)
	}
	if at, err := time.Parse(time.RFC3339, exp); err != nil || !at.Equal(time.Date(2026, 12, 26, 22, 22, 45, 123000000, time.UTC)) {
		t.Errorf("expiresAt %q: %v %v", exp, at, err)
	}
	if data["sessionId"] != info.SessionID {
		t.Errorf("data.sessionId = %v", data["sessionId"])
	}

	// Failures: a non-2xx status, so the client throws with the status and
	// the envelope, whose error.message says why, and no secret.
	for _, c := range []struct {
		apiKey, serviceID string
		userID            int64
		want              string
	}{
		{testKey, testService, 99, `404 Not Found - {"success":false,"error":{"code":"SESSION_NOT_FOUND","message":"no active session for this user"}}`},
		{"wrong", testService, userID, `401 Unauthorized - {"success":false,"error":{"code":"UNAUTHENTICATED","message":"invalid API key for this X-Service-ID"}}`},
		{testKey, "someone-else", userID, `401 Unauthorized`},
	} {
		data, thrown := fetchSessionLikeSeed(t, h.srv.Client(), endpoint, c.apiKey, c.serviceID, c.userID)
		if data != nil || !strings.Contains(thrown, c.want) {
			t.Errorf("got %v %q, want a throw with %q", data, thrown, c.want)
		}
		if strings.Contains(thrown, testSecret) || strings.Contains(thrown, testKey) {
			t.Errorf("thrown error carries a secret: %s", thrown)
		}
	}
}
