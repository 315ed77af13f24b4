// Command auth-telegram is the vault of users' Telegram sessions, run as a
// Cloudflare Worker: its RPC methods (telegramauth.Service) serve bindings, its
// HTTP API (authhttp) serves callers without one. Build it with `make build`.
package main

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/communicator/communicator/authhttp"
	"github.com/communicator/communicator/authrpc"
	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/internal/logging"
	"github.com/communicator/communicator/mtproto/tgclient"
	"github.com/communicator/communicator/mtproto/tglogin"
	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/vault"
	"github.com/communicator/communicator/workers"
	"github.com/communicator/communicator/workers/d1"
)

// version is set at build time (-ldflags -X main.version=...).
var version = "dev"

// resealPerRun bounds the sessions one scheduled run reseals (each is a D1
// write; a run has minutes of CPU but D1's per-invocation query limit).
const resealPerRun = 500

// logoutsPerRun bounds the revoked sessions one scheduled run asks Telegram
// to log out again (each a connection and a call, up to 5 s).
const logoutsPerRun = 20

// main runs once per isolate, on its first event: everything built here is
// shared by every request and RPC call of the isolate.
func main() {
	log := logging.New("auth-telegram", nil)
	cfg := parseConfig(workers.LookupEnv)
	for _, w := range cfg.Warnings {
		log.Warn("configuration works but should be fixed", "warning", w)
	}
	db := d1.Open("DB")

	// Logins and the logout of revoked sessions talk to Telegram: without
	// TELEGRAM_API_ID and TELEGRAM_API_HASH, logins answer UNAVAILABLE and
	// revocations stay local (health says so).
	var telegram vault.Telegram
	app, appErr := tgclient.ParseApp(workers.LookupEnv)
	endpoint, epErr := tgclient.ParseEndpoint(workers.LookupEnv)
	switch _, set := workers.LookupEnv(tgclient.EnvAPIID); {
	case !set && epErr == nil:
		log.Warn("Telegram is not configured (TELEGRAM_API_ID, TELEGRAM_API_HASH): logins answer UNAVAILABLE, revocations do not reach Telegram")
	case appErr != nil || epErr != nil:
		cfg.Problems = append(cfg.Problems, errors.Join(appErr, epErr).Error())
	default:
		telegram = tglogin.New(tgclient.New(app, endpoint, (&workers.Dialer{}).DialContext), app)
		cfg.telegram = true
	}

	var svc telegramauth.Service = unconfigured{msg: "unavailable"}
	var vlt *vault.Service
	if cfg.ok() {
		v, err := vault.New(db, cfg.Sealer, vault.Options{Lifetime: cfg.Lifetime, Logger: log, Policy: cfg.Policy,
			Telegram: telegram, LoginLifetime: cfg.LoginLifetime})
		if err != nil {
			cfg.Problems = append(cfg.Problems, err.Error())
		} else {
			vlt, svc = v, v
		}
	}
	if !cfg.ok() {
		log.Error("configuration is unusable; session routes and RPC methods answer UNAVAILABLE", "problems", cfg.Problems)
		svc = unconfigured{msg: cfg.problem()}
	}

	api := authhttp.NewHandler(authhttp.HandlerConfig{
		Service:     svc,
		APIKeys:     cfg.APIKeys,
		ServiceName: "auth-telegram",
		Version:     version,
		WithCaller: func(ctx context.Context, serviceID, clientIP string) context.Context {
			return vault.WithCaller(ctx, vault.Caller{ServiceID: serviceID, Channel: vault.ChannelHTTP, ClientIP: clientIP})
		},
		SessionReadsOff: cfg.SessionReadsOff,
		Authorize: func(ctx context.Context, action telegramauth.Action, userID int64, sessionID string) error {
			if vlt == nil {
				return nil // every call answers UNAVAILABLE
			}
			return vlt.Authorize(ctx, action, vault.Target{UserID: userID, SessionID: sessionID})
		},
		OnDenied: func(ctx context.Context, serviceID, clientIP, route string, code telegramauth.Code) {
			log.Warn("http call refused", "caller", serviceID, "client_ip", clientIP, "route", route, "code", string(code))
			if vlt == nil {
				return
			}
			if code == telegramauth.CodeForbidden { // HTTP_SESSION_READS=off: an authenticated caller, one row
				vlt.RecordDenied(ctx, vault.Caller{ServiceID: serviceID, Channel: vault.ChannelHTTP, ClientIP: clientIP}, telegramauth.ActionGetSession, vault.Target{}, code)
				return
			}
			vlt.RecordUnauthenticated(ctx, serviceID, clientIP) // anyone can send these: counted
		},
		// The answering isolate's memory and bridge counters, for operators (read_stats).
		Stats: func(ctx context.Context) (any, error) {
			if vlt == nil {
				return nil, telegramauth.NewError(telegramauth.CodeUnavailable, cfg.problem())
			}
			var out struct {
				Memory *workers.Memory `json:"memory"`
				Bridge *workers.Bridge `json:"bridge"`
			}
			if i, err := workers.ReadIsolate(ctx); err != nil {
				log.Warn("the isolate's figures could not be read", "err", err.Error())
			} else {
				out.Memory, out.Bridge = &i.Memory, &i.Bridge
			}
			return out, nil
		},
		Health: func(ctx context.Context) map[string]httpapi.Check {
			checks := health(ctx, cfg, db)
			if vlt != nil {
				checks["sealing"] = sealingCheck(ctx, vlt, cfg)
			}
			return checks
		},
	})

	workers.Serve(workers.Handlers{
		Fetch: logging.HTTP(log, api),
		RPC:   rpcHandler{next: authrpc.NewServiceHandler(svc), vault: vlt, log: log},
		// The cron trigger of wrangler.toml: during a rotation, reseal
		// sessions still under the previous key; prune the access log.
		Scheduled: func(ctx context.Context, cron string, at time.Time) error {
			if vlt == nil {
				return errors.New(cfg.problem())
			}
			reseal, err := vlt.ResealStale(ctx, resealPerRun)
			if err != nil {
				log.Error("resealing under the current key failed", "err", err)
				return err
			}
			if left := reseal.Left; left.Unreadable > 0 {
				log.Error("active sessions are sealed under a key no configured secret opens: set that secret as SESSION_SECRET_PREVIOUS, or revoke them",
					"unreadable", left.Unreadable, "key_ids", left.UnknownKeyIDs)
			}
			pruned, err := vlt.PruneAccessLog(ctx, at.Add(-cfg.Retention))
			if err != nil {
				log.Error("pruning the access log failed", "err", err)
				return err
			}
			logins, err := vlt.PruneLogins(ctx)
			if err != nil {
				log.Error("deleting expired logins failed", "err", err)
				return err
			}
			confirmed, pending, err := vlt.RetryLogouts(ctx, logoutsPerRun)
			if err != nil {
				log.Error("retrying the logouts of revoked sessions failed", "err", err)
				return err
			}
			log.Info("scheduled", "cron", cron, "resealed", reseal.Resealed, "skipped", reseal.Skipped,
				"pending", reseal.Left.Pending, "unreadable", reseal.Left.Unreadable, "pruned", pruned,
				"expired_logins", logins, "logouts_confirmed", confirmed, "logouts_pending", pending,
				"retention_days", int(cfg.Retention.Hours()/24))
			return nil
		},
	})
}

// health reports D1 reachability and whether the configuration is usable,
// naming bad variables but never their values, lengths or strength (health
// is unauthenticated; the details were logged when the isolate started).
func health(ctx context.Context, cfg *config, db interface {
	PingContext(context.Context) error
}) map[string]httpapi.Check {
	checks := map[string]httpapi.Check{}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		checks["d1"] = httpapi.Fail("D1 did not answer")
	} else {
		checks["d1"] = httpapi.OK("")
	}
	checks["config"] = httpapi.ConfigCheck(cfg.err())
	if cfg.telegram {
		checks["telegram"] = httpapi.OK("logins and logouts talk to Telegram")
	} else {
		checks["telegram"] = httpapi.OK("TELEGRAM_API_ID and TELEGRAM_API_HASH are not set: logins answer UNAVAILABLE")
	}
	if cfg.APIKeys.Len() > 0 {
		checks["api_keys"] = httpapi.OK("")
	} else {
		checks["api_keys"] = httpapi.OK("SERVICE_API_KEYS is not set: the HTTP API refuses every authenticated call")
	}
	return checks
}

// sealingCheck reports how many sessions wait for the current key during a
// rotation, and fails while active sessions are under a key that no
// configured secret opens. It names no secret, key or key id.
func sealingCheck(ctx context.Context, v *vault.Service, cfg *config) httpapi.Check {
	n, err := v.Stale(ctx)
	if err != nil {
		return httpapi.Fail("D1 did not answer")
	}
	var says []string
	if n.Unreadable > 0 {
		says = append(says, sessionsAre(n.Unreadable, "active ")+" sealed under a key that neither SESSION_SECRET nor SESSION_SECRET_PREVIOUS opens,"+
			" so they cannot be handed out: set the secret that sealed them as SESSION_SECRET_PREVIOUS, or revoke them"+
			" (the daily job logs their key ids)")
	}
	switch {
	case n.Pending > 0 && cfg.Sealer.PreviousKeyID() != "":
		says = append(says, sessionsAre(n.Pending, "")+" not sealed under the current key yet"+
			" (resealed on read and by the daily job; keep SESSION_SECRET_PREVIOUS until this is 0)")
	case n.Pending > 0: // without a previous key, pending rows are under the current key's legacy id
		says = append(says, sessionsAre(n.Pending, "")+" under the legacy id of the current key (resealed on read and by the daily job)")
	}
	if n.UnreadableInactive > 0 {
		says = append(says, sessionsAre(n.UnreadableInactive, "revoked or expired ")+" under a key no configured secret opens (never handed out)")
	}
	if len(says) == 0 {
		return httpapi.OK("every session is sealed under the current key")
	}
	if n.Unreadable > 0 {
		return httpapi.Fail(strings.Join(says, "; "))
	}
	return httpapi.OK(strings.Join(says, "; "))
}

// sessionsAre is "1 session is" or "n sessions are", with an adjective
// ("active ") before the noun.
func sessionsAre(n int64, adjective string) string {
	if n == 1 {
		return "1 " + adjective + "session is"
	}
	return strconv.FormatInt(n, 10) + " " + adjective + "sessions are"
}
