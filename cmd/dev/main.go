// Command dev runs communicator locally (`make dev`): a local Telegram
// (faketelegram, serving its fixture), both workers in workerd through the
// pinned wrangler, their local D1 databases with migrations applied, the
// TELEGRAM_AUTH binding between them, and a demo user whose Telegram session
// is imported into auth-telegram. It prints how to call the system and runs
// until interrupted. Everything is served on one port (-port, make dev's
// PORT): it must be free, and what answers there must be the stack it
// started (internal/devstack checks).
//
// Local secrets (the session-sealing secret, the dev API keys) are generated
// once into .wrangler/dev/secrets.json, so that sealed sessions survive
// restarts. The local Telegram keeps its auth keys in memory, so each start
// mints a new demo session and revokes the previous one.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/communicator/communicator/faketelegram"
	"github.com/communicator/communicator/httpapi"
	"github.com/communicator/communicator/internal/devport"
	"github.com/communicator/communicator/internal/devstack"
)

// demoUserID is communicator's demo user; demoTelegramUser is its account
// in the local Telegram's fixture.
const (
	demoUserID       = 1001
	demoTelegramUser = 1001
)

func main() {
	port := flag.Int("port", 8787, "HTTP port of both workers (make dev PORT=...)")
	fixture := flag.String("telegram-fixture", "", "fixture of the local Telegram (default: the shipped one)")
	quiet := flag.Bool("quiet", false, "do not print the workers' logs")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("make dev: ")
	// run returns instead of exiting, so that what it started is stopped.
	if err := run(*port, *fixture, *quiet); err != nil {
		log.Fatal(err)
	}
}

func run(port int, fixture string, quiet bool) error {
	// make dev checked before building; another program may have taken the
	// port since.
	if err := devport.Check(port); err != nil {
		return err
	}
	root, err := devstack.FindRoot()
	if err != nil {
		return err
	}
	devDir := filepath.Join(root, ".wrangler", "dev")
	sec, err := devstack.LoadDevSecrets(devstack.DevSecretsPath(root))
	if err != nil {
		return err
	}
	// One port for both: the router sends /auth-telegram/... to auth-telegram.
	authURL := fmt.Sprintf("http://127.0.0.1:%d/auth-telegram", port)
	var logw io.Writer = os.Stdout
	if quiet {
		logw = nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tgOpts := faketelegram.Options{}
	if fixture != "" {
		if tgOpts.Fixture, err = faketelegram.LoadFixture(fixture); err != nil {
			return err
		}
	}
	fake, err := faketelegram.Start(ctx, tgOpts)
	if err != nil {
		return fmt.Errorf("starting the local Telegram: %v", err)
	}
	defer fake.Close()
	// The local Telegram's control API: the codes it "sent", QR scans.
	controlLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("the local Telegram's control API: %v", err)
	}
	control := &http.Server{Handler: fake.ControlHandler(), ReadHeaderTimeout: 10 * time.Second}
	go control.Serve(controlLn)
	defer control.Close()
	controlURL := "http://" + controlLn.Addr().String()

	fmt.Println("starting auth-telegram and ingestor in workerd (wrangler dev)...")
	stack, err := devstack.Start(ctx, devstack.Options{
		Root:     root,
		StateDir: filepath.Join(root, ".wrangler", "state"),
		StageDir: filepath.Join(devDir, "stage"),
		Log:      logw,
		// A first start on a slow machine takes its time.
		ReadyTimeout: 3 * time.Minute,
		Workers: []devstack.Worker{
			{
				Name: "auth-telegram", Dir: filepath.Join(root, "services", "auth-telegram"), Migrate: true,
				// auth-telegram logs users in with the local Telegram; the
				// operator may (login), as an app's backend would.
				Vars: withVars(fake.EndpointVars(), map[string]string{
					"SESSION_SECRET": sec.SessionSecret,
					"SERVICE_API_KEYS": fmt.Sprintf(`{"ingestor-service":%q,%q:%q}`,
						httpapi.HashAPIKey(sec.APIKey), devstack.DevOperator, httpapi.HashAPIKey(sec.OperatorKey)),
					"ACCESS_POLICY": fmt.Sprintf(`{"get_session":["ingestor-service"],"list_sessions":["ingestor-service",%[1]q],`+
						`"revoke_session":["ingestor-service",%[1]q],"import_session":["ingestor-service"],"report":["ingestor-service"],`+
						`"login":[%[1]q],"read_access_log":[%[1]q],"read_stats":[%[1]q]}`, devstack.DevOperator),
					"TELEGRAM_API_ID":   "17349",
					"TELEGRAM_API_HASH": "344583e45741c457fe1862106095a5eb",
				}),
			},
			{
				Name: "ingestor", Dir: filepath.Join(root, "services", "ingestor"), Migrate: true,
				Vars: withVars(fake.EndpointVars(), map[string]string{
					"TELEGRAM_AUTH_SERVICE_ENDPOINT": authURL + "/api/telegram-auth",
					"TELEGRAM_AUTH_SERVICE_API_KEY":  sec.APIKey,
					"INGESTOR_API_KEYS":              fmt.Sprintf(`{%q:%q}`, devstack.DevOperator, httpapi.HashAPIKey(sec.OperatorKey)),
					"INGESTOR_ACCESS_POLICY":         fmt.Sprintf(`{"read":[%q],"sync":[%q],"operate":[%q]}`, devstack.DevOperator, devstack.DevOperator, devstack.DevOperator),
					// The local Telegram's address, data center and key come
					// from fake.EndpointVars. The API id and hash are placeholders
					// of the right shape: the local Telegram does not check them
					// (real ones come from my.telegram.org).
					"TELEGRAM_API_ID":   "17349",
					"TELEGRAM_API_HASH": "344583e45741c457fe1862106095a5eb",
				}),
			},
		},
		// Both workers run in one workerd, bound as in production (`wrangler
		// dev -c ingestor -c auth-telegram`); a generated router in front
		// gives both an HTTP address on one port. One process also means each
		// local D1 database has one owner.
		Processes: []devstack.Process{
			{Workers: []string{"ingestor", "auth-telegram"}, Port: port, Routed: true},
		},
	})
	defer stack.Stop()
	var pe *devstack.PortError
	if errors.As(err, &pe) {
		return fmt.Errorf("%v\nStop that program, or %s", err, devport.Advice(pe.Port))
	}
	if err != nil {
		return err
	}
	demo, err := fake.MintSession(ctx, demoTelegramUser)
	if err != nil {
		return fmt.Errorf("minting the demo session: %v", err)
	}
	if err := importDemo(authURL, sec, demo); err != nil {
		return fmt.Errorf("importing the demo session: %v", err)
	}
	account, _ := fake.Fixture().User(demoTelegramUser)
	ingestorURL := stack.URL["ingestor"]
	// The ingestor's routes but /health take the operator's credentials.
	op := fmt.Sprintf("-H 'Authorization: ApiKey %s' -H 'X-Service-ID: %s'", sec.OperatorKey, devstack.DevOperator)
	fmt.Printf(`
communicator is running locally.

  ingestor       %[1]s
  auth-telegram  %[2]s   (HTTP API under /api/telegram-auth)
  local D1 state %[3]s
  Telegram       %[6]s   (local, data center %[7]d; its fixture: faketelegram/README.md)

Both run in one workerd (wrangler dev); the binding between them is the
production one. A local router in front gives them one port: /auth-telegram/...
goes to auth-telegram, everything else to the ingestor.

Every ingestor route but /health takes an API key. Locally that is the service
%[10]q, allowed to read, sync and operate (its key is operatorKey in
.wrangler/dev/secrets.json; INGESTOR_API_KEYS and INGESTOR_ACCESS_POLICY in
docs/operations.md).

A demo user %[4]d has a session in auth-telegram. The ingestor gets it over the
TELEGRAM_AUTH binding (RPC) and reports it without revealing it:

  curl -s %[9]s \
    %[1]s/telegram/session-status/%[4]d

and talks to Telegram with it, from inside the worker (MTProto over connect()):

  curl -s %[9]s \
    %[1]s/telegram/me/%[4]d      # the account: %[8]s

Ingest the account's dialogs and messages (the cron of wrangler.toml and the
telegram-sync queue run locally; a sync of the fixture takes seconds):

  curl -s -X POST %[9]s \
    %[1]s/v1/users/%[4]d/sync                          # queue a sync now
  curl -s %[9]s \
    %[1]s/v1/users/%[4]d/sync                          # its state and progress
  curl -s %[9]s \
    '%[1]s/v1/users/%[4]d/dialogs?limit=5'             # what it stored
  curl -s %[9]s \
    '%[1]s/v1/users/%[4]d/dialogs/user:1002/messages?limit=5'

The ingestor's session client (cache, calls, retries):

  curl -s %[9]s \
    %[1]s/telegram/client-stats

auth-telegram's HTTP API (API key for ingestor-service, local only):

  curl -s -H 'Authorization: ApiKey %[5]s' -H 'X-Service-ID: ingestor-service' \
    %[2]s/api/telegram-auth/sessions/list/%[4]d

Log a Telegram account in: auth-telegram makes the key with Telegram and keeps
the session sealed; nothing of it leaves the vault. Locally the operator may
log users in (the login permission of ACCESS_POLICY), and the local Telegram's
control API (%[11]s) shows the code it "sent" and plays the phone that scans
a QR code. Fixture user 1002 (Daniel Okafor) has a 2FA password:

  curl -s %[9]s -H 'Content-Type: application/json' \
    -d '{"userId":1002,"phone":"+1 555 010 1002"}' %[2]s/api/telegram-auth/login/start
  curl -s '%[11]s/codes?phone=15550101002'           # the code: 01002
  curl -s %[9]s -H 'Content-Type: application/json' \
    -d '{"loginId":"<loginId>","code":"01002"}' %[2]s/api/telegram-auth/login/code
                                                      # password_needed, hint "xkcd"
  curl -s %[9]s -H 'Content-Type: application/json' \
    -d '{"loginId":"<loginId>","password":"correct horse battery staple"}' %[2]s/api/telegram-auth/login/password
  curl -s %[9]s %[1]s/telegram/me/1002            # the ingestor, with the new session

Fixture user 1003 (Yuki Tanaka) by QR code, as Telegram's apps link a device:

  curl -s %[9]s -H 'Content-Type: application/json' \
    -d '{"userId":1003}' %[2]s/api/telegram-auth/login/qr      # url: tg://login?token=<token>
  curl -s -d '{"token":"<token>","userId":1003}' %[11]s/qr/scan   # user 1003 scans it
  curl -s %[9]s -H 'Content-Type: application/json' \
    -d '{"loginId":"<loginId>"}' %[2]s/api/telegram-auth/login/poll   # done
  curl -s %[9]s %[1]s/telegram/me/1003

Health (no key): curl -s %[1]s/health ; curl -s %[2]s/health
Check the pair:  make smoke URL=%[1]s
Press Ctrl-C to stop.
`, ingestorURL, authURL, stack.StateDir, demoUserID, sec.APIKey, fake.Addr(), fake.DC(), account.FirstName+" "+account.LastName, op, devstack.DevOperator, controlURL)

	done := make(chan error, 1)
	go func() { done <- stack.Wait() }()
	select {
	case <-ctx.Done():
		fmt.Println("\nstopping...")
		return nil
	case err := <-done:
		return fmt.Errorf("a wrangler process exited: %v", err)
	}
}

// importDemo revokes the demo user's earlier sessions (their keys died with
// the previous local Telegram) and imports the new one.
func importDemo(authURL string, sec devstack.DevSecrets, session string) error {
	do := func(method, path string) (int, []byte, error) {
		req, _ := http.NewRequest(method, authURL+"/api/telegram-auth"+path, nil)
		httpapi.SetAPIKey(req.Header, "ingestor-service", sec.APIKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b, nil
	}
	status, body, err := do("GET", fmt.Sprintf("/sessions/list/%d", demoUserID))
	if err != nil {
		return err
	}
	var list struct {
		Data []struct{ SessionID, Status string } `json:"data"`
	}
	if status == 200 && json.Unmarshal(body, &list) == nil {
		for _, s := range list.Data {
			if s.Status != "active" {
				continue
			}
			if st, b, err := do("DELETE", "/sessions/"+s.SessionID); err != nil || st != 200 {
				return fmt.Errorf("revoking the old demo session %s: %d %s %v", s.SessionID, st, b, err)
			}
		}
	}
	_, err = devstack.ImportSession(authURL, sec.APIKey, demoUserID, session)
	return err
}

// withVars returns vars with more added.
func withVars(vars, more map[string]string) map[string]string {
	maps.Copy(vars, more)
	return vars
}
