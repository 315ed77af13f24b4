package ingestorhttp

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/communicator/communicator/httpapi"
)

// health reports D1, the configuration (bad variables by name only), and
// whether auth-telegram answers over the transport in use. Any failing check
// makes it 503. It is unauthenticated: nothing in it names a caller, a key,
// or an address.
func (a *api) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	h := httpapi.Health{Service: "ingestor", Version: a.Version, Checks: map[string]httpapi.Check{}}
	h.Checks["d1"] = httpapi.OK("")
	if a.DB != nil && a.DB.PingContext(ctx) != nil {
		h.Checks["d1"] = httpapi.Fail("D1 did not answer")
	}
	h.Checks["config"] = httpapi.ConfigCheck(a.ClientErr)
	h.Checks["telegram_config"] = httpapi.ConfigCheck(a.TelegramErr)
	h.Checks["ingest_config"] = httpapi.ConfigCheck(a.IngestErr)
	if a.TelegramErr == nil && a.Telegram != nil {
		h.Checks["telegram_config"] = httpapi.OK(a.telegramEndpoint())
	}
	switch {
	case a.CallersErr != nil:
		h.Checks["callers"] = httpapi.ConfigCheck(a.CallersErr)
	case a.Callers.Keys.Len() == 0:
		h.Checks["callers"] = httpapi.Fail(EnvAPIKeys + " is not set: every route but /health answers 401")
	default:
		h.Checks["callers"] = httpapi.OK("")
	}
	if a.Sessions != nil {
		h.Transport = a.Sessions.Transport()
		if a.PingAuth != nil {
			if err := a.PingAuth(ctx); err != nil {
				a.Log.Warn("auth-telegram's health failed", "transport", h.Transport, "err", err.Error())
				h.Checks["auth_telegram"] = httpapi.Fail("auth-telegram does not answer healthy over " + h.Transport)
			} else {
				h.Checks["auth_telegram"] = httpapi.OK("answers over " + h.Transport)
			}
		}
	}
	httpapi.WriteHealth(w, h)
}

// telegramEndpoint says which Telegram the ingestor talks to, without its
// address.
func (a *api) telegramEndpoint() string {
	e := a.Telegram.Endpoint()
	if e.Production() {
		return "production Telegram"
	}
	return "a test server (data center " + strconv.Itoa(e.DC) + ")"
}
