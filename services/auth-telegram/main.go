// Command auth-telegram is the vault of users' Telegram sessions, run as a
// Cloudflare Worker: its RPC methods (telegramauth.Service) serve bindings, its
// HTTP API (authhttp) serves callers without one. Build it with `make build`.
package main

import (
	"context"
	"strings"
	"time"

	"github.com/communicator/communicator/authhttp"
	"github.com/communicator/communicator/internal/logging"
	"github.com/communicator/communicator/telegramauth"
	"github.com/communicator/communicator/vault"
	"github.com/communicator/communicator/workers"
	"github.com/communicator/communicator/workers/d1"
)

// version is set at build time (-ldflags -X main.version=...).
var version = "dev"

// main runs once per isolate, on its first event: everything built here is
// shared by every request and RPC call of the isolate.
func main() {
	log := logging.New("auth-telegram", nil)
	cfg := parseConfig(workers.LookupEnv)
	db := d1.Open("DB")

	var svc telegramauth.Service = unconfigured{msg: "unavailable"}
	var vlt *vault.Service
	if cfg.ok() {
		v, err := vault.New(db, cfg.Sealer, vault.Options{Lifetime: cfg.Lifetime, Logger: log})
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
		OnDenied: func(ctx context.Context, serviceID, clientIP, route string, code telegramauth.Code) {
			log.Warn("http call refused", "caller", serviceID, "route", route, "code", string(code))
			if vlt != nil {
				vlt.RecordDenied(ctx, vault.Caller{ServiceID: serviceID, Channel: vault.ChannelHTTP, ClientIP: clientIP}, vault.ActionAuthenticate, code)
			}
		},
		Health: func(ctx context.Context) authhttp.HealthReport {
			return health(ctx, cfg, db)
		},
	})

	workers.Serve(workers.Handlers{
		Fetch: logging.HTTP(log, api),
		RPC:   rpcHandler{next: telegramauth.NewServiceHandler(svc), log: log},
	})
}

// health reports D1 reachability and whether the secrets are configured,
// never their values.
func health(ctx context.Context, cfg *config, db interface {
	PingContext(context.Context) error
}) authhttp.HealthReport {
	r := authhttp.HealthReport{Checks: map[string]authhttp.HealthCheck{}}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		r.Checks["d1"] = authhttp.HealthCheck{OK: false, Detail: "D1 did not answer"}
	} else {
		r.Checks["d1"] = authhttp.HealthCheck{OK: true}
	}
	if cfg.ok() {
		r.Checks["config"] = authhttp.HealthCheck{OK: true}
	} else {
		r.Checks["config"] = authhttp.HealthCheck{OK: false, Detail: cfg.problem()}
	}
	if cfg.APIKeys.Len() > 0 {
		r.Checks["api_keys"] = authhttp.HealthCheck{OK: true, Detail: "services: " + strings.Join(cfg.APIKeys.ServiceIDs(), ", ")}
	} else {
		r.Checks["api_keys"] = authhttp.HealthCheck{OK: true, Detail: "SERVICE_API_KEYS is not set: the HTTP API refuses every authenticated call"}
	}
	return r
}
