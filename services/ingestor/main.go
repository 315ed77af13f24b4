// Command ingestor pulls users' Telegram messages into communicator, run as a
// Cloudflare Worker. It gets each user's session from auth-telegram through
// the TELEGRAM_AUTH service binding (RPC), or over auth-telegram's HTTP API
// when TELEGRAM_AUTH_TRANSPORT says so; its own HTTP API is ingestorhttp.
// Build it with `make build`. This file is wiring only.
package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/communicator/communicator/authclient"
	"github.com/communicator/communicator/authrpc"
	"github.com/communicator/communicator/ingestorhttp"
	"github.com/communicator/communicator/internal/logging"
	"github.com/communicator/communicator/mtproto/tgclient"
	"github.com/communicator/communicator/workers"
)

// version is set at build time (-ldflags -X main.version=...).
var version = "dev"

// main runs once per isolate, on its first event: the configuration is parsed
// and the clients built once, and shared by every request.
func main() {
	log := logging.New("ingestor", nil)
	dbs := &d1Opener{}
	cfg := ingestorhttp.Config{Log: log, Version: version, DB: dbs.open("DB"), Isolate: workers.ReadIsolate}

	cfg.Callers, cfg.CallersErr = ingestorhttp.ParseCallers(workers.LookupEnv)
	if cfg.CallersErr != nil {
		log.Error("callers' configuration problems; nobody can authenticate", "problems", cfg.CallersErr.Error())
	}

	var sessions *authclient.Client
	client, err := authclient.ParseConfig(workers.LookupEnv, workers.HasBinding)
	if err != nil {
		cfg.ClientErr = err
		log.Error("session client configuration problems; the routes that need it answer 503", "problems", err.Error())
	} else {
		sessions = newSessionClient(client)
		cfg.Sessions = sessions
		cfg.PingAuth = func(ctx context.Context) error { return pingAuth(ctx, client) }
	}

	app, appErr := tgclient.ParseApp(workers.LookupEnv)
	endpoint, epErr := tgclient.ParseEndpoint(workers.LookupEnv)
	if cfg.TelegramErr = errors.Join(appErr, epErr); cfg.TelegramErr != nil {
		log.Error("Telegram configuration problems; the routes that talk to Telegram answer 503", "problems", cfg.TelegramErr.Error())
	} else {
		// One client per isolate; each request connects for itself through
		// connect() and closes its connection when it ends.
		cfg.Telegram = tgclient.New(app, endpoint, (&workers.Dialer{}).DialContext)
	}

	var handlers workers.Handlers
	if cfg.TelegramErr == nil {
		cfg.Ingest, cfg.IngestErr = newIngest(log, dbs, sessions, app, endpoint)
	} else {
		cfg.IngestErr = errors.New("ingestion needs Telegram, whose configuration is unusable")
	}
	if cfg.IngestErr != nil {
		log.Error("ingestion is off; its routes answer 503", "problems", cfg.IngestErr.Error())
	} else {
		svc := cfg.Ingest
		handlers.Queue = consume(log, svc)
		// The cron trigger: queue the syncs that are due, and the lost ones.
		handlers.Scheduled = func(ctx context.Context, cron string, at time.Time) error {
			n, err := svc.QueueDue(ctx, cronBatch)
			log.Info("scheduled", "cron", cron, "queued", n)
			return err
		}
	}
	handlers.Fetch = logging.HTTP(log, ingestorhttp.NewHandler(cfg))
	workers.Serve(handlers)
}

// newSessionClient builds the client for the configured transport. The
// binding's RPC client is generated from telegramauth.Service; the HTTP one
// is auth-telegram's HTTP API over the Workers fetch API.
func newSessionClient(cfg authclient.ClientConfig) *authclient.Client {
	var t authclient.Transports
	switch cfg.Transport {
	case authclient.TransportBinding:
		t.Binding = authrpc.ServiceClient{Binding: workers.GetBinding(authclient.BindingName)}
	case authclient.TransportHTTP:
		h, err := authclient.NewHTTPTransport(cfg, workers.Network)
		if err != nil {
			panic(err) // ParseConfig validated the same fields
		}
		t.HTTP = h
	}
	return authclient.New(cfg, t)
}

// pingAuth asks auth-telegram's /health over the transport in use: fetch over
// the binding, or HTTP to the endpoint.
func pingAuth(ctx context.Context, cfg authclient.ClientConfig) error {
	url := strings.TrimSuffix(cfg.Endpoint, "/") + "/health"
	rt := workers.Network
	if cfg.Transport == authclient.TransportBinding {
		rt = workers.GetBinding(authclient.BindingName).Transport()
		url = "https://auth-telegram/health"
	}
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return errors.New("auth-telegram did not answer over " + cfg.Transport + ": " + err.Error())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("auth-telegram answered " + resp.Status + " over " + cfg.Transport)
	}
	return nil
}
