// Command faketelegram runs a fake Telegram data center (package
// faketelegram) on loopback for tests and local development.
//
//	faketelegram [-addr 127.0.0.1:0] [-dc 2] [-fixture file.json[.gz]] [-mint 1001,1002] [-control 127.0.0.1:0]
//
// When ready it prints one JSON line on stdout:
//
//	{"addr":"127.0.0.1:NNN","dc":2,"dcs":{"2":"127.0.0.1:NNN","4":"127.0.0.1:KKK"},
//	 "publicKey":"-----BEGIN RSA PUBLIC KEY-----\n...","sessions":{"1001":"1..."},"control":"127.0.0.1:MMM"}
//
// addr and dc are the main data center; dcs is every DC served, the main
// one included (users 1005 and 1006 live on DC 4: auth.sendCode for them
// on the main DC answers PHONE_MIGRATE_4). sessions holds a GramJS string
// session on the main DC for each -mint user ("control" only with
// -control; see faketelegram.Server.ControlHandler for its API).
// It serves until SIGINT or SIGTERM. Logs (never sessions or keys) go to
// stderr with -v.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/communicator/communicator/faketelegram"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "faketelegram:", err)
		os.Exit(1)
	}
}

// ready is the line printed when the server is up.
type ready struct {
	Addr      string            `json:"addr"`
	DC        int               `json:"dc"`
	DCs       map[int]string    `json:"dcs"`
	PublicKey string            `json:"publicKey"`
	Sessions  map[string]string `json:"sessions"`
	Control   string            `json:"control,omitempty"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("faketelegram", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "MTProto listen address (loopback only)")
	dc := fs.Int("dc", 2, "data center id")
	fixture := fs.String("fixture", "", "fixture file (JSON, or .json.gz); default: the shipped fixture")
	mint := fs.String("mint", "", "comma-separated fixture user ids to mint sessions for at start")
	control := fs.String("control", "", "loopback address for the HTTP control API (e.g. 127.0.0.1:0); off when empty")
	verbose := fs.Bool("v", false, "log to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var users []int64
	for _, f := range strings.Split(*mint, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return fmt.Errorf("-mint: %q is not a user id", f)
		}
		users = append(users, id)
	}
	opts := faketelegram.Options{Addr: *addr, DC: *dc}
	if *fixture != "" {
		f, err := faketelegram.LoadFixture(*fixture)
		if err != nil {
			return err
		}
		opts.Fixture = f
	}
	if *verbose {
		l, err := zap.NewDevelopment()
		if err != nil {
			return err
		}
		opts.Logger = l
	}
	for _, id := range users {
		fx := opts.Fixture
		if fx == nil {
			fx = faketelegram.DefaultFixture()
		}
		if _, ok := fx.User(id); !ok {
			return fmt.Errorf("-mint: no fixture user %d", id)
		}
	}
	srv, err := faketelegram.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer srv.Close()

	out := ready{Addr: srv.Addr(), DC: srv.DC(), DCs: srv.DCAddrs(), PublicKey: string(srv.PublicKeyPEM()), Sessions: map[string]string{}}
	// Mint in parallel: each is a key exchange.
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for _, id := range users {
		g.Go(func() error {
			mctx, cancel := context.WithTimeout(gctx, 60*time.Second)
			defer cancel()
			s, err := srv.MintSession(mctx, id)
			if err != nil {
				return err
			}
			mu.Lock()
			out.Sessions[strconv.FormatInt(id, 10)] = s
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}

	var hs *http.Server
	if *control != "" {
		host, _, err := net.SplitHostPort(*control)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("-control %q: not a loopback address", *control)
		}
		ln, err := net.Listen("tcp", *control)
		if err != nil {
			return fmt.Errorf("-control: %w", err)
		}
		out.Control = ln.Addr().String()
		hs = &http.Server{Handler: srv.ControlHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintln(stderr, "faketelegram: control:", err)
			}
		}()
	}
	line, err := json.Marshal(out)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		return err
	}
	<-ctx.Done()
	if hs != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}
	return nil
}
