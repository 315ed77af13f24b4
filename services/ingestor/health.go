package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/communicator/communicator/authclient"
	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/workers"
)

type check struct {
	Status string `json:"status"` // ok or failing
	Detail string `json:"detail,omitempty"`
}

type healthReport struct {
	Status    string           `json:"status"` // ok or degraded
	Service   string           `json:"service"`
	Version   string           `json:"version"`
	Transport string           `json:"transport,omitempty"`
	Checks    map[string]check `json:"checks"`
}

// health reports D1 reachability, the configuration (which variables are
// bad, never their values), the transport to auth-telegram and whether
// auth-telegram answers over it. Any failing check makes it 503.
func (s *server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	rep := healthReport{Status: "ok", Service: "ingestor", Version: version, Checks: map[string]check{}}
	set := func(name string, err error, detail string) {
		c := check{Status: "ok", Detail: detail}
		if err != nil {
			c = check{Status: "failing", Detail: err.Error()}
			rep.Status = "degraded"
		}
		rep.Checks[name] = c
	}
	set("d1", s.db.PingContext(ctx), "")
	set("config", s.clientErr, "")
	set("telegram_config", s.telegramErr, s.telegramEndpoint())
	if s.client != nil {
		rep.Transport = s.client.Transport()
		set("auth_telegram", s.pingAuth(ctx), "answers over "+rep.Transport)
	}
	status := http.StatusOK
	if rep.Status != "ok" {
		status = http.StatusServiceUnavailable
	}
	httpapi.WriteData(w, status, rep)
}

// telegramEndpoint says which Telegram the ingestor talks to.
func (s *server) telegramEndpoint() string {
	if s.tg == nil {
		return ""
	}
	e := s.tg.Endpoint()
	if e.Production() {
		return "production Telegram"
	}
	return "test server " + e.Addr + " (data center " + strconv.Itoa(e.DC) + ")"
}

// pingAuth asks auth-telegram's /health over the transport in use: fetch over
// the binding, or HTTP to the endpoint.
func (s *server) pingAuth(ctx context.Context) error {
	var url string
	client := workers.DefaultClient
	if s.client.Transport() == authclient.TransportBinding {
		client = workers.GetBinding(authclient.BindingName).HTTPClient()
		url = "https://auth-telegram/health"
	} else {
		url = strings.TrimSuffix(s.cfg.Client.Endpoint, "/") + "/health"
	}
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return errors.New("auth-telegram did not answer over " + s.client.Transport())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("auth-telegram answered " + resp.Status + " over " + s.client.Transport())
	}
	return nil
}
