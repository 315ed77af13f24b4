package deploy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/communicator/communicator/infrastructure/cloudflare"
	"github.com/communicator/communicator/infrastructure/wranglerconf"
)

// repo is the repository root.
var repo = func() string { d, _ := filepath.Abs("../.."); return d }()

// registration is one RegisterResource call the program made.
type registration struct {
	Type, Name, ID, URN string
	Inputs              resource.PropertyMap
	Version             string
	Provider            string
	Protect             bool
	Dependencies        []string
	PropertyDeps        map[string][]string
}

// mocks records every registration; outputs echo the inputs (so a worker's
// name output is its name input) and ids are predictable.
type mocks struct {
	mu   sync.Mutex
	regs []registration
}

func mockID(typ, name string) string {
	switch typ {
	case cloudflare.TypeProvider:
		return "provider-id"
	case cloudflare.TypeD1Database:
		return "uuid-of-" + name
	case cloudflare.TypeWorker:
		return "workerid-of-" + name
	case cloudflare.TypeWorkerVersion:
		return "versionid-of-" + name
	case cloudflare.TypeQueue:
		return "queueid-of-" + name
	}
	return "id-of-" + name
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	id := mockID(args.TypeToken, args.Name)
	r := registration{Type: args.TypeToken, Name: args.Name, ID: id, Inputs: args.Inputs,
		URN: fmt.Sprintf("urn:pulumi:%s::communicator::%s::%s", "stack", args.TypeToken, args.Name)}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Version, r.Provider, r.Protect, r.Dependencies = rpc.GetVersion(), rpc.GetProvider(), rpc.GetProtect(), rpc.GetDependencies()
		r.PropertyDeps = map[string][]string{}
		for k, v := range rpc.GetPropertyDependencies() {
			r.PropertyDeps[k] = v.GetUrns()
		}
	}
	m.mu.Lock()
	m.regs = append(m.regs, r)
	m.mu.Unlock()
	return id, args.Inputs, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

func (m *mocks) find(t *testing.T, typ, name string) registration {
	t.Helper()
	for _, r := range m.regs {
		if r.Type == typ && r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s %q registered", typ, name)
	return registration{}
}

// secret is how a secret input appears in plain().
type secretValue struct{ V any }

// plain turns a property value into plain Go values, keeping secrets
// visible as secretValue{...}.
func plain(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return secretValue{plain(v.SecretValue().Element)}
	case v.IsObject():
		m := map[string]any{}
		for k, e := range v.ObjectValue() {
			m[string(k)] = plain(e)
		}
		return m
	case v.IsArray():
		a := []any{}
		for _, e := range v.ArrayValue() {
			a = append(a, plain(e))
		}
		return a
	case v.IsComputed(), v.IsOutput():
		return "<unknown>"
	case v.IsNull():
		return nil
	}
	return v.V
}

func plainMap(m resource.PropertyMap) map[string]any {
	return plain(resource.NewObjectProperty(m)).(map[string]any)
}

// Test secrets and config.
const (
	accountID = "0123456789abcdef0123456789abcdef"
	zoneID    = "fedcba9876543210fedcba9876543210"
	endpoint  = "https://auth-telegram.example.workers.dev/api/telegram-auth"
)

var secrets = map[string]string{
	"cloudflare:apiToken":                    "cf-token-SECRET-0001",
	"auth-telegram:SESSION_SECRET":           "session-secret-SECRET-0002",
	"auth-telegram:SESSION_SECRET_PREVIOUS":  "previous-secret-SECRET-0003",
	"auth-telegram:SERVICE_API_KEYS":         `{"ingestor-service":"SECRET-0004"}`,
	"auth-telegram:TELEGRAM_API_ID":          "SECRET-0009",
	"auth-telegram:TELEGRAM_API_HASH":        "api-hash-SECRET-0010",
	"ingestor:TELEGRAM_API_ID":               "SECRET-0005",
	"ingestor:TELEGRAM_API_HASH":             "api-hash-SECRET-0006",
	"ingestor:TELEGRAM_AUTH_SERVICE_API_KEY": "api-key-SECRET-0007",
	"ingestor:INGESTOR_API_KEYS":             `{"operator":"SECRET-0008"}`,
}

// edit changes a service's wrangler.toml in a fixture.
type edit func(service string, toml []byte) []byte

// httpTransport is the rollback to HTTP (docs/deploy.md): the ingestor's
// TELEGRAM_AUTH_TRANSPORT is http in every environment, with an https
// endpoint.
func httpTransport(service string, toml []byte) []byte {
	if service != "ingestor" {
		return toml
	}
	toml = regexp.MustCompile(`(?m)^TELEGRAM_AUTH_TRANSPORT = "[a-z]+"`).ReplaceAll(toml, []byte(`TELEGRAM_AUTH_TRANSPORT = "http"`))
	return regexp.MustCompile(`(?m)^TELEGRAM_AUTH_SERVICE_ENDPOINT = "[^"]*"`).ReplaceAll(toml, []byte(`TELEGRAM_AUTH_SERVICE_ENDPOINT = "`+endpoint+`"`))
}

// withoutEntrypoint leaves the ingestor's TELEGRAM_AUTH with its props and
// no entrypoint, in every environment.
func withoutEntrypoint(service string, toml []byte) []byte {
	if service != "ingestor" {
		return toml
	}
	return regexp.MustCompile(`(?m)^entrypoint = "IngestorEntrypoint"\n`).ReplaceAll(toml, nil)
}

// ingestorEdit is an edit of the ingestor's wrangler.toml that replaces old
// (which must be there) with new.
func ingestorEdit(old, new string) edit {
	return func(service string, toml []byte) []byte {
		if service != "ingestor" {
			return toml
		}
		if !bytes.Contains(toml, []byte(old)) {
			panic(fmt.Sprintf("services/ingestor/wrangler.toml no longer holds %q: update the test", old))
		}
		return bytes.ReplaceAll(toml, []byte(old), []byte(new))
	}
}

// fixture is a copy of the repository's service configs, changed by edits,
// with small fake builds (the real generated entry modules, fake runtime,
// wasm_exec and wasm).
func fixture(t *testing.T, edits ...edit) string {
	t.Helper()
	root := t.TempDir()
	for _, s := range Services {
		dir := filepath.Join(root, "services", s)
		build := filepath.Join(dir, "build")
		if err := os.MkdirAll(build, 0o755); err != nil {
			t.Fatal(err)
		}
		toml, err := os.ReadFile(filepath.Join(repo, "services", s, "wrangler.toml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range edits {
			toml = e(s, toml)
		}
		entry, err := os.ReadFile(filepath.Join(repo, "services", s, "entry", "worker.mjs"))
		if err != nil {
			t.Fatal(err)
		}
		for name, content := range map[string][]byte{
			"wrangler.toml":      toml,
			"build/worker.mjs":   entry,
			"build/runtime.mjs":  []byte("export class Runtime {}\n"),
			"build/wasm_exec.js": []byte("\"use strict\";\nglobalThis.Go = class {};\n"),
			"build/app.wasm":     append([]byte("\x00asm\x01\x00\x00\x00"), s...),
			"build/stray.txt":    []byte("not imported, not uploaded"),
		} {
			if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// goodConfig is a complete configuration with every secret set as a secret.
func goodConfig() map[string]string {
	c := map[string]string{"communicator:accountId": accountID}
	for k, v := range secrets {
		c[k] = v
	}
	return c
}

// run runs the program against the mocks.
func run(t *testing.T, stack, root string, cfg map[string]string) (*mocks, *Deployed, error) {
	t.Helper()
	m := &mocks{}
	var keys []string
	for k := range secrets {
		if _, ok := cfg[k]; ok {
			keys = append(keys, k)
		}
	}
	var d *Deployed
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		var err error
		d, err = Deploy(ctx, Options{Root: root})
		return err
	}, pulumi.WithMocks("communicator", stack, m), func(info *pulumi.RunInfo) {
		info.Config, info.ConfigSecretKeys = cfg, keys
	})
	return m, d, err
}

func envOf(stack string) string { return Stacks[stack] }

func suffix(stack string) string {
	if stack == "dev" {
		return ""
	}
	return "-" + stack
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// messageShards are the ingestor's message databases in each stack, as
// services/ingestor/wrangler.toml declares them: binding -> database name.
var messageShards = map[string][][2]string{
	"dev":        {{"MESSAGES_0", "ingestor-messages-0"}, {"MESSAGES_1", "ingestor-messages-1"}},
	"staging":    {{"MESSAGES_0", "ingestor-messages-0-staging"}, {"MESSAGES_1", "ingestor-messages-1-staging"}},
	"production": {{"MESSAGES_0", "ingestor-messages-0-production"}, {"MESSAGES_1", "ingestor-messages-1-production"}},
}

// d1Resource is the logical name of a worker's D1 database bound as binding.
func d1Resource(service, binding string) string {
	return service + "-d1-" + strings.ToLower(binding)
}

// TestEveryStack asserts, for each stack, every resource the program
// registers: its type token, the pinned provider version, the explicit
// provider, and all of its inputs.
func TestEveryStack(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			root := fixture(t)
			m, _, err := run(t, stack, root, goodConfig())
			if err != nil {
				t.Fatal(err)
			}
			sfx := suffix(stack)

			// Exactly these resources, nothing else.
			var got []string
			for _, r := range m.regs {
				if r.Type != "pulumi:pulumi:Stack" {
					got = append(got, r.Type+" "+r.Name)
				}
			}
			sort.Strings(got)
			queue := "telegram-sync" + sfx
			want := []string{
				cloudflare.TypeD1Database + " auth-telegram-d1-db",
				cloudflare.TypeD1Database + " ingestor-d1-db",
				cloudflare.TypeWorker + " auth-telegram",
				cloudflare.TypeWorker + " ingestor",
				cloudflare.TypeWorkerVersion + " auth-telegram",
				cloudflare.TypeWorkerVersion + " ingestor",
				cloudflare.TypeWorkersCronTrigger + " auth-telegram",
				cloudflare.TypeWorkersCronTrigger + " ingestor",
				cloudflare.TypeWorkersDeployment + " auth-telegram",
				cloudflare.TypeWorkersDeployment + " ingestor",
				cloudflare.TypeQueue + " queue-" + queue,
				cloudflare.TypeQueueConsumer + " ingestor-consumes-" + queue,
				cloudflare.TypeProvider + " cloudflare",
			}
			for _, shard := range messageShards[stack] {
				want = append(want, cloudflare.TypeD1Database+" "+d1Resource("ingestor", shard[0]))
			}
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("registered:\n %s\nwant:\n %s", strings.Join(got, "\n "), strings.Join(want, "\n "))
			}

			// The explicit provider, its token secret; every resource pinned to it.
			p := m.find(t, cloudflare.TypeProvider, "cloudflare")
			if p.Version != "6.17.0" || !reflect.DeepEqual(plainMap(p.Inputs), map[string]any{"apiToken": secretValue{secrets["cloudflare:apiToken"]}}) {
				t.Errorf("provider: version %q inputs %v", p.Version, plainMap(p.Inputs))
			}
			for _, r := range m.regs {
				if strings.HasPrefix(r.Type, "cloudflare:") {
					if r.Version != "6.17.0" {
						t.Errorf("%s %s: version %q, want 6.17.0", r.Type, r.Name, r.Version)
					}
					if !strings.Contains(r.Provider, "pulumi:providers:cloudflare::cloudflare::provider-id") {
						t.Errorf("%s %s: provider %q, want the explicit one", r.Type, r.Name, r.Provider)
					}
				}
			}

			for _, s := range Services {
				cfg, err := wranglerconf.Load(filepath.Join(root, "services", s, "wrangler.toml"), envOf(stack))
				if err != nil {
					t.Fatal(err)
				}
				name := s + sfx
				if cfg.Name != name {
					t.Fatalf("wrangler.toml names %s %q for %s", s, cfg.Name, stack)
				}

				d1 := m.find(t, cloudflare.TypeD1Database, s+"-d1-db")
				if !reflect.DeepEqual(plainMap(d1.Inputs), map[string]any{"accountId": accountID, "name": name}) || !d1.Protect {
					t.Errorf("%s D1: %v protect=%v", s, plainMap(d1.Inputs), d1.Protect)
				}
				w := m.find(t, cloudflare.TypeWorker, s)
				if !reflect.DeepEqual(plainMap(w.Inputs), map[string]any{"accountId": accountID, "name": name,
					"subdomain": map[string]any{"enabled": true}}) {
					t.Errorf("%s worker: %v", s, plainMap(w.Inputs))
				}

				// The version: modules, bindings, compatibility, annotations.
				v := m.find(t, cloudflare.TypeWorkerVersion, s)
				build := filepath.Join(root, "services", s, "build")
				var mods []any
				var tagInput strings.Builder
				var parts []string
				for _, mod := range []struct{ name, ct string }{
					{"app.wasm", "application/wasm"},
					{"runtime.mjs", "application/javascript+module"},
					{"wasm_exec.js", "application/javascript+module"},
					{"worker.mjs", "application/javascript+module"},
				} {
					b, _ := os.ReadFile(filepath.Join(build, mod.name))
					mods = append(mods, map[string]any{"name": mod.name, "contentType": mod.ct, "contentFile": filepath.Join(build, mod.name)})
					fmt.Fprintf(&tagInput, "%s\x00%s\x00%s\n", mod.name, mod.ct, sha(b))
					parts = append(parts, mod.name+" sha256:"+sha(b))
				}
				bindings := []any{map[string]any{"type": "d1", "name": "DB", "id": "uuid-of-" + s + "-d1-db"}}
				if s == "ingestor" {
					for _, shard := range messageShards[stack] {
						d1 := m.find(t, cloudflare.TypeD1Database, d1Resource(s, shard[0]))
						if !reflect.DeepEqual(plainMap(d1.Inputs), map[string]any{"accountId": accountID, "name": shard[1]}) || !d1.Protect {
							t.Errorf("%s D1 %s: %v protect=%v", s, shard[0], plainMap(d1.Inputs), d1.Protect)
						}
						bindings = append(bindings, map[string]any{"type": "d1", "name": shard[0], "id": "uuid-of-" + d1Resource(s, shard[0])})
					}
					// The same stack's auth-telegram's IngestorEntrypoint; the
					// props stay behind (the provider cannot send them).
					bindings = append(bindings, map[string]any{"type": "service", "name": "TELEGRAM_AUTH", "service": "auth-telegram" + sfx,
						"entrypoint": "IngestorEntrypoint"})
					bindings = append(bindings, map[string]any{"type": "queue", "name": "SYNC_QUEUE", "queueName": queue})
				}
				for _, k := range cfg.VarNames() {
					bindings = append(bindings, map[string]any{"type": "plain_text", "name": k, "text": cfg.Vars[k]})
				}
				for _, sec := range Secrets[s] {
					bindings = append(bindings, map[string]any{"type": "secret_text", "name": sec.Name, "text": secretValue{secrets[s+":"+sec.Name]}})
				}
				wantVersion := map[string]any{
					"accountId":          accountID,
					"workerId":           "workerid-of-" + s,
					"mainModule":         "worker.mjs",
					"modules":            mods,
					"bindings":           bindings,
					"compatibilityDate":  "2026-04-21",
					"compatibilityFlags": []any{},
					"annotations": map[string]any{
						"workersTag":     "sha256:" + sha([]byte(tagInput.String())),
						"workersMessage": "build " + strings.Join(parts, ", "),
					},
				}
				if gotV := plainMap(v.Inputs); !reflect.DeepEqual(gotV, wantVersion) {
					t.Errorf("%s version inputs:\n got %#v\nwant %#v", s, gotV, wantVersion)
				}

				dep := m.find(t, cloudflare.TypeWorkersDeployment, s)
				if !reflect.DeepEqual(plainMap(dep.Inputs), map[string]any{"accountId": accountID, "scriptName": name,
					"strategy": "percentage", "versions": []any{map[string]any{"percentage": 100.0, "versionId": "versionid-of-" + s}}}) {
					t.Errorf("%s deployment: %v", s, plainMap(dep.Inputs))
				}
			}
			cron := m.find(t, cloudflare.TypeWorkersCronTrigger, "auth-telegram")
			if !reflect.DeepEqual(plainMap(cron.Inputs), map[string]any{"accountId": accountID, "scriptName": "auth-telegram" + sfx,
				"schedules": []any{map[string]any{"cron": "17 3 * * *"}}}) {
				t.Errorf("cron: %v", plainMap(cron.Inputs))
			}
			cron = m.find(t, cloudflare.TypeWorkersCronTrigger, "ingestor")
			if !reflect.DeepEqual(plainMap(cron.Inputs), map[string]any{"accountId": accountID, "scriptName": "ingestor" + sfx,
				"schedules": []any{map[string]any{"cron": "*/5 * * * *"}}}) {
				t.Errorf("ingestor's cron: %v", plainMap(cron.Inputs))
			}
			q := m.find(t, cloudflare.TypeQueue, "queue-"+queue)
			if !reflect.DeepEqual(plainMap(q.Inputs), map[string]any{"accountId": accountID, "queueName": queue}) || q.Protect {
				t.Errorf("queue: %v protect=%v", plainMap(q.Inputs), q.Protect)
			}
			// wrangler.toml's max_batch_size 1, max_batch_timeout 1 (s), max_retries 100.
			consumer := m.find(t, cloudflare.TypeQueueConsumer, "ingestor-consumes-"+queue)
			if !reflect.DeepEqual(plainMap(consumer.Inputs), map[string]any{"accountId": accountID, "queueId": "queueid-of-queue-" + queue,
				"type": "worker", "scriptName": "ingestor" + sfx,
				"settings": map[string]any{"batchSize": 1.0, "maxWaitTimeMs": 1000.0, "maxRetries": 100.0}}) {
				t.Errorf("queue consumer: %v", plainMap(consumer.Inputs))
			}
		})
	}
}

// TestNothingDropped: every var, D1 database, service binding and queue
// producer that wrangler.toml gives a worker in the stack's environment is a
// binding of its version (wranglerconf is checked against wrangler itself in
// its own tests), and nothing else is bound besides the secrets; every queue
// it consumes has a consumer naming it, and nothing else consumes.
func TestNothingDropped(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "production"} {
		root := fixture(t)
		m, _, err := run(t, stack, root, goodConfig())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range Services {
			cfg, _ := wranglerconf.Load(filepath.Join(root, "services", s, "wrangler.toml"), envOf(stack))
			want := map[string]bool{}
			for k := range cfg.Vars {
				want["plain_text "+k] = true
			}
			for _, d := range cfg.D1 {
				want["d1 "+d.Binding] = true
			}
			for _, b := range cfg.Services {
				want["service "+b.Binding] = true
			}
			for _, p := range cfg.QueueProducers {
				want["queue "+p.Binding] = true
			}
			for _, sec := range Secrets[s] {
				want["secret_text "+sec.Name] = true
			}
			got := map[string]bool{}
			for _, b := range plainMap(m.find(t, cloudflare.TypeWorkerVersion, s).Inputs)["bindings"].([]any) {
				bm := b.(map[string]any)
				got[bm["type"].(string)+" "+bm["name"].(string)] = true
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: bindings %v, wrangler.toml and secrets give %v", stack, s, got, want)
			}
			wantConsumers, gotConsumers := map[string]bool{}, map[string]bool{}
			for _, q := range cfg.QueueConsumers {
				wantConsumers["queueid-of-queue-"+q.Queue] = true
			}
			for _, r := range m.regs {
				if in := plainMap(r.Inputs); r.Type == cloudflare.TypeQueueConsumer && in["scriptName"] == cfg.Name {
					gotConsumers[in["queueId"].(string)] = true
				}
			}
			if !reflect.DeepEqual(gotConsumers, wantConsumers) {
				t.Errorf("%s %s: consumes %v, wrangler.toml says %v", stack, s, gotConsumers, wantConsumers)
			}
		}
	}
}

// TestIngestion: in every stack the ingestor's queue, its consumer and its
// message databases are what wrangler.toml says and come in the order
// Cloudflare needs: the queue before the version that binds it, the consumer
// after the ingestor's deployment (it names the deployed worker) and on the
// queue's id; INGEST_SHARDS databases MESSAGES_0.. are created, protected
// and bound; the ingestor's cron is set.
func TestIngestion(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			root := fixture(t)
			m, d, err := run(t, stack, root, goodConfig())
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := wranglerconf.Load(filepath.Join(root, "services", "ingestor", "wrangler.toml"), envOf(stack))
			if err != nil {
				t.Fatal(err)
			}
			queue := "telegram-sync" + suffix(stack)
			if len(cfg.QueueProducers) != 1 || cfg.QueueProducers[0] != (wranglerconf.QueueProducer{Binding: "SYNC_QUEUE", Queue: queue}) ||
				len(cfg.QueueConsumers) != 1 || cfg.QueueConsumers[0].Queue != queue {
				t.Fatalf("wrangler.toml's queues changed: %+v %+v", cfg.QueueProducers, cfg.QueueConsumers)
			}
			q := m.find(t, cloudflare.TypeQueue, "queue-"+queue)
			if plainMap(q.Inputs)["queueName"] != queue {
				t.Errorf("queue name %v, want %s", plainMap(q.Inputs)["queueName"], queue)
			}
			hasURN := func(urns []string, typ, name string) bool {
				return slices.ContainsFunc(urns, func(u string) bool { return strings.HasSuffix(u, "::"+typ+"::"+name) })
			}

			// The producer: SYNC_QUEUE binds the queue by name, after it exists.
			v := m.find(t, cloudflare.TypeWorkerVersion, "ingestor")
			b := bindingsOf(t, m, "ingestor")
			if !reflect.DeepEqual(b["SYNC_QUEUE"], map[string]any{"type": "queue", "name": "SYNC_QUEUE", "queueName": queue}) {
				t.Errorf("SYNC_QUEUE is %v", b["SYNC_QUEUE"])
			}
			if !hasURN(v.PropertyDeps["bindings"], cloudflare.TypeQueue, "queue-"+queue) {
				t.Errorf("the ingestor's version does not wait for its queue: %v", v.PropertyDeps["bindings"])
			}

			// The consumer: the ingestor, on that queue's id, with wrangler.toml's
			// settings (max_batch_timeout is seconds, max_wait_time_ms milliseconds).
			want := cfg.QueueConsumers[0]
			c := m.find(t, cloudflare.TypeQueueConsumer, "ingestor-consumes-"+queue)
			in := plainMap(c.Inputs)
			if in["type"] != "worker" || in["scriptName"] != "ingestor"+suffix(stack) || in["queueId"] != q.ID {
				t.Errorf("consumer: %v (queue id %s)", in, q.ID)
			}
			settings := in["settings"].(map[string]any)
			if settings["batchSize"] != *want.MaxBatchSize || settings["maxRetries"] != *want.MaxRetries ||
				settings["maxWaitTimeMs"] != *want.MaxBatchTimeout*1000 || len(settings) != 3 {
				t.Errorf("consumer settings %v, wrangler.toml %+v", settings, want)
			}
			if !hasURN(c.PropertyDeps["scriptName"], cloudflare.TypeWorkersDeployment, "ingestor") ||
				!hasURN(c.PropertyDeps["queueId"], cloudflare.TypeQueue, "queue-"+queue) {
				t.Errorf("consumer's dependencies: %v", c.PropertyDeps)
			}

			// Every message shard INGEST_SHARDS counts is created and bound.
			shards := 0
			for _, db := range cfg.D1 {
				if !strings.HasPrefix(db.Binding, "MESSAGES_") {
					continue
				}
				shards++
				r := m.find(t, cloudflare.TypeD1Database, d1Resource("ingestor", db.Binding))
				if plainMap(r.Inputs)["name"] != db.DatabaseName || !r.Protect {
					t.Errorf("%s: %v protect=%v", db.Binding, plainMap(r.Inputs), r.Protect)
				}
				if !reflect.DeepEqual(b[db.Binding], map[string]any{"type": "d1", "name": db.Binding, "id": r.ID}) {
					t.Errorf("%s is bound as %v", db.Binding, b[db.Binding])
				}
				if _, ok := d.Outputs["ingestor.d1."+db.Binding]; !ok {
					t.Errorf("no output ingestor.d1.%s (the id for remote migrations)", db.Binding)
				}
			}
			if n := fmt.Sprint(shards); cfg.Vars["INGEST_SHARDS"] != n || shards != len(messageShards[stack]) {
				t.Errorf("%d message databases, INGEST_SHARDS %q", shards, cfg.Vars["INGEST_SHARDS"])
			}
			if cron := plainMap(m.find(t, cloudflare.TypeWorkersCronTrigger, "ingestor").Inputs); !reflect.DeepEqual(cron["schedules"],
				[]any{map[string]any{"cron": cfg.Crons[0]}}) || len(cfg.Crons) != 1 {
				t.Errorf("ingestor's cron %v, wrangler.toml %v", cron["schedules"], cfg.Crons)
			}
		})
	}
}

// everyConsumerSetting gives the production consumer every setting wrangler
// deploys, a dead-letter queue among them.
func everyConsumerSetting(service string, toml []byte) []byte {
	if service != "ingestor" {
		return toml
	}
	return bytes.Replace(toml, []byte("queue = \"telegram-sync-production\"\nmax_batch_size = 1\nmax_batch_timeout = 1\nmax_retries = 100\n"),
		[]byte("queue = \"telegram-sync-production\"\nmax_batch_size = 4\nmax_batch_timeout = 0.5\nmax_retries = 100\n"+
			"max_concurrency = 2\nretry_delay = 30\ndead_letter_queue = \"telegram-sync-dead-production\"\n"), 1)
}

// TestConsumerSettings: every consumer setting of wrangler.toml reaches the
// consumer, and a dead-letter queue is created (by the program, before the
// consumer) and named by the consumer.
func TestConsumerSettings(t *testing.T) {
	m, _, err := run(t, "production", fixture(t, everyConsumerSetting), goodConfig())
	if err != nil {
		t.Fatal(err)
	}
	dead := m.find(t, cloudflare.TypeQueue, "queue-telegram-sync-dead-production")
	if !reflect.DeepEqual(plainMap(dead.Inputs), map[string]any{"accountId": accountID, "queueName": "telegram-sync-dead-production"}) {
		t.Errorf("dead-letter queue: %v", plainMap(dead.Inputs))
	}
	c := m.find(t, cloudflare.TypeQueueConsumer, "ingestor-consumes-telegram-sync-production")
	want := map[string]any{"accountId": accountID, "queueId": "queueid-of-queue-telegram-sync-production", "type": "worker",
		"scriptName": "ingestor-production", "deadLetterQueue": "telegram-sync-dead-production",
		"settings": map[string]any{"batchSize": 4.0, "maxWaitTimeMs": 500.0, "maxRetries": 100.0, "maxConcurrency": 2.0, "retryDelay": 30.0}}
	if !reflect.DeepEqual(plainMap(c.Inputs), want) {
		t.Errorf("consumer:\n got %v\nwant %v", plainMap(c.Inputs), want)
	}
	if !slices.ContainsFunc(c.PropertyDeps["deadLetterQueue"], func(u string) bool {
		return strings.HasSuffix(u, "::"+cloudflare.TypeQueue+"::queue-telegram-sync-dead-production")
	}) {
		t.Errorf("the consumer does not wait for its dead-letter queue: %v", c.PropertyDeps)
	}
	// Nothing consumes the dead-letter queue, and nothing has to.
	for _, r := range m.regs {
		if r.Type == cloudflare.TypeQueueConsumer && r.Name != c.Name {
			t.Errorf("unexpected consumer %s", r.Name)
		}
	}
}

// TestBindingTargetsSameStackAndOrder: the ingestor's TELEGRAM_AUTH binds
// the auth-telegram of its own stack, and its version is uploaded only after
// auth-telegram's deployment (a dependency, and the binding's service is
// that deployment's output).
func TestBindingTargetsSameStackAndOrder(t *testing.T) {
	for _, stack := range []string{"dev", "staging", "production"} {
		m, _, err := run(t, stack, fixture(t), goodConfig())
		if err != nil {
			t.Fatal(err)
		}

		v := m.find(t, cloudflare.TypeWorkerVersion, "ingestor")
		var target any
		for _, b := range plainMap(v.Inputs)["bindings"].([]any) {
			if bm := b.(map[string]any); bm["name"] == "TELEGRAM_AUTH" {
				target = bm["service"]
			}
		}
		if target != "auth-telegram"+suffix(stack) {
			t.Errorf("%s: TELEGRAM_AUTH targets %v", stack, target)
		}
		hasURN := func(urns []string) bool {
			for _, u := range urns {
				if strings.HasSuffix(u, "::"+cloudflare.TypeWorkersDeployment+"::auth-telegram") {
					return true
				}
			}
			return false
		}
		if !hasURN(v.Dependencies) || !hasURN(v.PropertyDeps["bindings"]) {
			t.Errorf("%s: ingestor's version does not depend on auth-telegram's deployment: deps %v, bindings deps %v",
				stack, v.Dependencies, v.PropertyDeps["bindings"])
		}
		authV := m.find(t, cloudflare.TypeWorkerVersion, "auth-telegram")
		for _, u := range authV.Dependencies {
			if strings.Contains(u, "ingestor") {
				t.Errorf("%s: auth-telegram depends on the ingestor: %v", stack, authV.Dependencies)
			}
		}

	}
}

// bindingsOf returns the bindings of a worker's uploaded version by name.
func bindingsOf(t *testing.T, m *mocks, service string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, b := range plainMap(m.find(t, cloudflare.TypeWorkerVersion, service).Inputs)["bindings"].([]any) {
		bm := b.(map[string]any)
		out[bm["name"].(string)] = bm
	}
	return out
}

// TestIngestorBindsItsEntrypoint: in every stack, the repository's
// configuration deploys as it is: the ingestor's TELEGRAM_AUTH is a service
// binding to that stack's auth-telegram at the named entrypoint
// IngestorEntrypoint, which identifies the ingestor to auth-telegram (its
// props are not sent: the provider has no field for them), and staging and
// production use the binding.
func TestIngestorBindsItsEntrypoint(t *testing.T) {
	for _, c := range []struct{ stack, authTelegram, transport string }{
		{"dev", "auth-telegram", ""},
		{"staging", "auth-telegram-staging", "binding"},
		{"production", "auth-telegram-production", "binding"},
	} {
		m, _, err := run(t, c.stack, fixture(t), goodConfig())
		if err != nil {
			t.Fatalf("%s: %v", c.stack, err)
		}
		b := bindingsOf(t, m, "ingestor")
		want := map[string]any{"type": "service", "name": "TELEGRAM_AUTH", "service": c.authTelegram, "entrypoint": "IngestorEntrypoint"}
		if !reflect.DeepEqual(b["TELEGRAM_AUTH"], want) {
			t.Errorf("%s: TELEGRAM_AUTH is %v, want %v", c.stack, b["TELEGRAM_AUTH"], want)
		}
		if c.transport != "" && !reflect.DeepEqual(b["TELEGRAM_AUTH_TRANSPORT"], map[string]any{"type": "plain_text", "name": "TELEGRAM_AUTH_TRANSPORT", "text": c.transport}) {
			t.Errorf("%s: TELEGRAM_AUTH_TRANSPORT is %v, want %q", c.stack, b["TELEGRAM_AUTH_TRANSPORT"], c.transport)
		}
	}
}

// TestRollbackToHTTP: with TELEGRAM_AUTH_TRANSPORT = "http" in wrangler.toml
// the ingestor deploys with the https endpoint and its API key, and keeps
// its binding (setting the transport back to binding needs no other change).
func TestRollbackToHTTP(t *testing.T) {
	m, _, err := run(t, "production", fixture(t, httpTransport), goodConfig())
	if err != nil {
		t.Fatal(err)
	}
	b := bindingsOf(t, m, "ingestor")
	for name, want := range map[string]map[string]any{
		"TELEGRAM_AUTH_TRANSPORT":        {"type": "plain_text", "name": "TELEGRAM_AUTH_TRANSPORT", "text": "http"},
		"TELEGRAM_AUTH_SERVICE_ENDPOINT": {"type": "plain_text", "name": "TELEGRAM_AUTH_SERVICE_ENDPOINT", "text": endpoint},
		"TELEGRAM_AUTH_SERVICE_API_KEY":  {"type": "secret_text", "name": "TELEGRAM_AUTH_SERVICE_API_KEY", "text": secretValue{secrets["ingestor:TELEGRAM_AUTH_SERVICE_API_KEY"]}},
		"TELEGRAM_AUTH":                  {"type": "service", "name": "TELEGRAM_AUTH", "service": "auth-telegram-production", "entrypoint": "IngestorEntrypoint"},
	} {
		if !reflect.DeepEqual(b[name], want) {
			t.Errorf("%s is %v, want %v", name, b[name], want)
		}
	}
}

// TestSecretsStaySecret: every secret is a secret wherever it appears in any
// resource's inputs, and no stack output is secret or holds a secret.
func TestSecretsStaySecret(t *testing.T) {
	m, d, err := run(t, "production", fixture(t), goodConfig())
	if err != nil {
		t.Fatal(err)
	}
	var walk func(where string, v any, inSecret bool)
	walk = func(where string, v any, inSecret bool) {
		switch v := v.(type) {
		case secretValue:
			walk(where, v.V, true)
		case map[string]any:
			for k, e := range v {
				walk(where+"."+k, e, inSecret)
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s[%d]", where, i), e, inSecret)
			}
		case string:
			for k, s := range secrets {
				if strings.Contains(v, s) && !inSecret {
					t.Errorf("%s holds %s in plain text", where, k)
				}
			}
		}
	}
	found := 0
	for _, r := range m.regs {
		walk(r.Type+" "+r.Name, plainMap(r.Inputs), false)
		if r.Type == cloudflare.TypeWorkerVersion {
			for _, b := range plainMap(r.Inputs)["bindings"].([]any) {
				if bm := b.(map[string]any); bm["type"] == "secret_text" {
					if _, ok := bm["text"].(secretValue); !ok {
						t.Errorf("%s: secret_text %v is not secret", r.Name, bm["name"])
					}
					found++
				}
			}
		}
	}
	if found != 9 {
		t.Errorf("%d secret_text bindings, want 9", found)
	}
	if len(d.Outputs) == 0 {
		t.Fatal("no outputs")
	}
	for k, o := range d.Outputs {
		if pulumi.IsSecret(o) {
			t.Errorf("output %s is secret (outputs are plain)", k)
		}
		v, _ := awaitPlain(o)
		for name, s := range secrets {
			if strings.Contains(fmt.Sprint(v), s) {
				t.Errorf("output %s holds %s", k, name)
			}
		}
	}
}

func awaitPlain(o pulumi.Output) (any, error) {
	ch := make(chan any, 1)
	o.ApplyT(func(v any) any { ch <- v; return v })
	return <-ch, nil
}

// TestBuildIsHashed: modules are the entry and what it imports (not stray
// files), app.wasm goes as application/wasm, and a changed build is a changed
// version (its tag and message carry the modules' SHA-256).
func TestBuildIsHashed(t *testing.T) {
	root := fixture(t)
	m1, _, err := run(t, "staging", root, goodConfig())
	if err != nil {
		t.Fatal(err)
	}
	wasm := filepath.Join(root, "services", "ingestor", "build", "app.wasm")
	newBytes := []byte("\x00asm\x01\x00\x00\x00 rebuilt")
	if err := os.WriteFile(wasm, newBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	m2, _, err := run(t, "staging", root, goodConfig())
	if err != nil {
		t.Fatal(err)
	}
	a1 := plainMap(m1.find(t, cloudflare.TypeWorkerVersion, "ingestor").Inputs)["annotations"].(map[string]any)
	a2 := plainMap(m2.find(t, cloudflare.TypeWorkerVersion, "ingestor").Inputs)["annotations"].(map[string]any)
	if a1["workersTag"] == a2["workersTag"] || !strings.Contains(a2["workersMessage"].(string), "app.wasm sha256:"+sha(newBytes)) {
		t.Errorf("a changed app.wasm did not change the version: %v -> %v", a1, a2)
	}
	auth1 := plainMap(m1.find(t, cloudflare.TypeWorkerVersion, "auth-telegram").Inputs)["annotations"]
	auth2 := plainMap(m2.find(t, cloudflare.TypeWorkerVersion, "auth-telegram").Inputs)["annotations"]
	if !reflect.DeepEqual(auth1, auth2) {
		t.Errorf("auth-telegram's version changed with the ingestor's build")
	}
	for _, mod := range plainMap(m2.find(t, cloudflare.TypeWorkerVersion, "ingestor").Inputs)["modules"].([]any) {
		mm := mod.(map[string]any)
		if mm["name"] == "stray.txt" {
			t.Errorf("a file nothing imports was uploaded")
		}
		if mm["name"] == "app.wasm" && (mm["contentType"] != "application/wasm" || mm["contentFile"] != wasm) {
			t.Errorf("app.wasm: %v", mm)
		}
	}
}

// TestRefusals: configurations the program would deploy weaker than
// wrangler.toml says, or cannot deploy at all, are errors naming each
// problem, and nothing is registered.
func TestRefusals(t *testing.T) {
	without := func(keys ...string) map[string]string {
		c := goodConfig()
		for _, k := range keys {
			delete(c, k)
		}
		return c
	}
	with := func(kv ...string) map[string]string {
		c := goodConfig()
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i]] = kv[i+1]
		}
		return c
	}
	for _, c := range []struct {
		name  string
		stack string
		edit  edit
		cfg   map[string]string
		want  []string
	}{
		{"props without an entrypoint", "production", withoutEntrypoint, goodConfig(),
			[]string{"ingestor-production (stack production): service binding TELEGRAM_AUTH has props map[serviceId:ingestor-service] and no entrypoint",
				"provider 6.17.0 cannot deploy props", "auth-telegram-production would not know who calls",
				"Bind a named entrypoint of auth-telegram-production", `entrypoint = "<Name>"`}},
		{"props without an entrypoint on staging", "staging", withoutEntrypoint, goodConfig(),
			[]string{"ingestor-staging (stack staging): service binding TELEGRAM_AUTH has props map[serviceId:ingestor-service] and no entrypoint"}},
		{"props without an entrypoint on dev", "dev", withoutEntrypoint, goodConfig(),
			[]string{"ingestor (stack dev): service binding TELEGRAM_AUTH has props map[serviceId:ingestor-service] and no entrypoint"}},
		{"props without an entrypoint, even over HTTP", "production", func(s string, b []byte) []byte { return withoutEntrypoint(s, httpTransport(s, b)) }, goodConfig(),
			[]string{"service binding TELEGRAM_AUTH has props map[serviceId:ingestor-service] and no entrypoint"}},
		{"missing secrets, each named", "staging", httpTransport, without("cloudflare:apiToken", "auth-telegram:SESSION_SECRET", "ingestor:TELEGRAM_API_ID", "ingestor:TELEGRAM_API_HASH", "ingestor:TELEGRAM_AUTH_SERVICE_API_KEY"),
			[]string{"cloudflare:apiToken is not set", "auth-telegram:SESSION_SECRET is not set", "ingestor:TELEGRAM_API_ID is not set", "ingestor:TELEGRAM_API_HASH is not set", "ingestor:TELEGRAM_AUTH_SERVICE_API_KEY is not set, and TELEGRAM_AUTH_TRANSPORT is http"}},
		{"bad account id", "staging", nil, with("communicator:accountId", "my-account"), []string{"communicator:accountId must be the 32-hex Cloudflare account id"}},
		{"route without a zone id", "production", nil, with("communicator:routes", `{"ingestor":[{"pattern":"ingest.example.com/*"}]}`),
			[]string{`ingestor: route "ingest.example.com/*" needs the zone's 32-hex Zone ID as zoneId (got ""`}},
		{"route with a malformed zone id", "production", nil, with("communicator:routes", `{"auth-telegram":[{"pattern":"auth.example.com/*","zoneId":"example.com"}]}`),
			[]string{`auth-telegram: route "auth.example.com/*" needs the zone's 32-hex Zone ID`}},
		{"custom domain with a path", "production", nil, with("communicator:routes", `{"auth-telegram":[{"pattern":"auth.example.com/*","zoneId":"`+zoneID+`","customDomain":true}]}`),
			[]string{`custom domain "auth.example.com/*" must be a bare hostname`}},
		{"routes of an unknown service", "production", nil, with("communicator:routes", `{"auth":[]}`), []string{`communicator:routes names unknown service "auth"`}},
		{"unknown stack", "qa", nil, goodConfig(), []string{`stack "qa" is not one of dev, staging, production`}},
		{"a consumer of another environment's queue", "staging",
			ingestorEdit("[[env.staging.queues.consumers]]\nqueue = \"telegram-sync-staging\"", "[[env.staging.queues.consumers]]\nqueue = \"telegram-sync-production\""),
			goodConfig(), []string{"ingestor-staging (stack staging): consumes queue telegram-sync-production, which no worker of the stack " +
				"produces to ([[queues.producers]]) and no consumer dead-letters to; nothing would arrive"}},
		{"two consumers of a queue", "production",
			ingestorEdit("[[env.production.d1_databases]]", "[[env.production.queues.consumers]]\nqueue = \"telegram-sync-production\"\n[[env.production.d1_databases]]"),
			goodConfig(), []string{"ingestor-production (stack production): consumes queue telegram-sync-production, which ingestor-production consumes already; a queue has one consumer"}},
		{"a queue that dead-letters to itself", "production",
			ingestorEdit("max_retries = 100\n[[env.production.d1_databases]]", "max_retries = 100\ndead_letter_queue = \"telegram-sync-production\"\n[[env.production.d1_databases]]"),
			goodConfig(), []string{"queue telegram-sync-production is its own dead-letter queue"}},
		{"more shards than message databases", "production", ingestorEdit(`INGEST_SHARDS = "2"`, `INGEST_SHARDS = "3"`), goodConfig(),
			[]string{"ingestor-production: INGEST_SHARDS is 3 but there is no D1 binding MESSAGES_2 (the shards are MESSAGES_0 to MESSAGES_2)"}},
		{"shards that are not a number", "staging", ingestorEdit(`INGEST_SHARDS = "2"`, `INGEST_SHARDS = "one"`), goodConfig(),
			[]string{`ingestor-staging: INGEST_SHARDS is "one", not a positive number of message databases`}},
		{"a producer's delivery delay", "production",
			ingestorEdit("binding = \"SYNC_QUEUE\"\nqueue = \"telegram-sync-production\"\n", "binding = \"SYNC_QUEUE\"\nqueue = \"telegram-sync-production\"\ndelivery_delay = 10\n"),
			goodConfig(), []string{"[env.production]: queues.producers[0]: delivery_delay is not supported by the deployment program: the provider's queue binding has no such field"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var edits []edit
			if c.edit != nil {
				edits = append(edits, c.edit)
			}
			m, _, err := run(t, c.stack, fixture(t, edits...), c.cfg)
			if err == nil {
				t.Fatal("deployed")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			for _, r := range m.regs {
				if r.Type != "pulumi:pulumi:Stack" {
					t.Errorf("registered %s %s despite the error", r.Type, r.Name)
				}
			}
		})
	}
}

// TestAddingAShard follows docs/deploy.md: a new MESSAGES_n is deployed
// (created, bound, migrated) while INGEST_SHARDS does not count it yet, then
// INGEST_SHARDS counts it; only the databases stay as they were.
func TestAddingAShard(t *testing.T) {
	add := ingestorEdit("database_name = \"ingestor-messages-1-production\"\ndatabase_id = \"00000000-0000-4000-8000-0000000016f5\"\nmigrations_dir = \"migrations-messages\"\n",
		"database_name = \"ingestor-messages-1-production\"\ndatabase_id = \"00000000-0000-4000-8000-0000000016f5\"\nmigrations_dir = \"migrations-messages\"\n"+
			"[[env.production.d1_databases]]\nbinding = \"MESSAGES_2\"\ndatabase_name = \"ingestor-messages-2-production\"\n"+
			"database_id = \"00000000-0000-4000-8000-0000000016f6\"\nmigrations_dir = \"migrations-messages\"\n")
	count := func(service string, toml []byte) []byte {
		if service != "ingestor" {
			return toml
		}
		i := bytes.Index(toml, []byte("[env.production.vars]"))
		return append(toml[:i:i], bytes.Replace(toml[i:], []byte(`INGEST_SHARDS = "2"`), []byte(`INGEST_SHARDS = "3"`), 1)...)
	}
	for _, c := range []struct {
		name  string
		edits []edit
	}{{"the database first", []edit{add}}, {"then INGEST_SHARDS", []edit{add, count}}} {
		m, _, err := run(t, "production", fixture(t, c.edits...), goodConfig())
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		db := m.find(t, cloudflare.TypeD1Database, d1Resource("ingestor", "MESSAGES_2"))
		if plainMap(db.Inputs)["name"] != "ingestor-messages-2-production" || !db.Protect {
			t.Errorf("%s: MESSAGES_2 database %v", c.name, plainMap(db.Inputs))
		}
		b := bindingsOf(t, m, "ingestor")
		if !reflect.DeepEqual(b["MESSAGES_2"], map[string]any{"type": "d1", "name": "MESSAGES_2", "id": db.ID}) {
			t.Errorf("%s: MESSAGES_2 is bound as %v", c.name, b["MESSAGES_2"])
		}
		if want := map[bool]string{false: "2", true: "3"}[len(c.edits) == 2]; b["INGEST_SHARDS"]["text"] != want {
			t.Errorf("%s: INGEST_SHARDS %v, want %s", c.name, b["INGEST_SHARDS"], want)
		}
	}
}

// TestPlainTextSecretRefused: a secret stored without --secret is refused.
func TestPlainTextSecretRefused(t *testing.T) {
	m := &mocks{}
	cfg := goodConfig()
	var keys []string
	for k := range secrets {
		if k != "auth-telegram:SESSION_SECRET" {
			keys = append(keys, k)
		}
	}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := Deploy(ctx, Options{Root: fixture(t)})
		return err
	}, pulumi.WithMocks("communicator", "staging", m), func(info *pulumi.RunInfo) { info.Config, info.ConfigSecretKeys = cfg, keys })
	if err == nil || !strings.Contains(err.Error(), "auth-telegram:SESSION_SECRET is stored in plain text") {
		t.Errorf("error %v", err)
	}
}

func TestMissingBuild(t *testing.T) {
	root := fixture(t)
	os.Remove(filepath.Join(root, "services", "ingestor", "build", "app.wasm"))
	os.Remove(filepath.Join(root, "services", "auth-telegram", "build", "worker.mjs"))
	_, _, err := run(t, "staging", root, goodConfig())
	if err == nil || !strings.Contains(err.Error(), "ingestor: module app.wasm") || !strings.Contains(err.Error(), "worker.mjs is missing: run `make build` first") {
		t.Errorf("error %v", err)
	}
}

// TestRoutes: routes and custom domains from config, with their zone ids.
func TestRoutes(t *testing.T) {
	m, _, err := run(t, "production", fixture(t), map[string]string{
		"communicator:accountId": accountID,
		"communicator:routes": `{"ingestor":[{"pattern":"ingest.example.com/*","zoneId":"` + zoneID + `"}],
			"auth-telegram":[{"pattern":"auth.example.com","zoneId":"` + zoneID + `","customDomain":true}]}`,
		"cloudflare:apiToken":                    secrets["cloudflare:apiToken"],
		"auth-telegram:SESSION_SECRET":           secrets["auth-telegram:SESSION_SECRET"],
		"ingestor:TELEGRAM_API_ID":               secrets["ingestor:TELEGRAM_API_ID"],
		"ingestor:TELEGRAM_API_HASH":             secrets["ingestor:TELEGRAM_API_HASH"],
		"ingestor:TELEGRAM_AUTH_SERVICE_API_KEY": secrets["ingestor:TELEGRAM_AUTH_SERVICE_API_KEY"],
	})
	if err != nil {
		t.Fatal(err)
	}
	r := m.find(t, cloudflare.TypeWorkersRoute, "ingestor-0")
	if !reflect.DeepEqual(plainMap(r.Inputs), map[string]any{"zoneId": zoneID, "pattern": "ingest.example.com/*", "script": "ingestor-production"}) || r.Version != "6.17.0" {
		t.Errorf("route: %v %s", plainMap(r.Inputs), r.Version)
	}
	d := m.find(t, cloudflare.TypeWorkersCustomDomain, "auth-telegram-0")
	if !reflect.DeepEqual(plainMap(d.Inputs), map[string]any{"accountId": accountID, "zoneId": zoneID, "hostname": "auth.example.com", "service": "auth-telegram-production"}) || d.Version != "6.17.0" {
		t.Errorf("custom domain: %v %s", plainMap(d.Inputs), d.Version)
	}
	// Optional secrets that are not set are not bound.
	for _, b := range plainMap(m.find(t, cloudflare.TypeWorkerVersion, "auth-telegram").Inputs)["bindings"].([]any) {
		if n := b.(map[string]any)["name"]; n == "SESSION_SECRET_PREVIOUS" || n == "SERVICE_API_KEYS" || n == "TELEGRAM_API_ID" || n == "TELEGRAM_API_HASH" {
			t.Errorf("unset secret %v is bound", n)
		}
	}
}

// TestSecretNamesMatchTheCode: each secret the program binds is a name the
// worker's code reads.
func TestSecretNamesMatchTheCode(t *testing.T) {
	sources := map[string][]string{
		"auth-telegram": {"services/auth-telegram/config.go", "mtproto/tgclient/config.go"},
		"ingestor":      {"authclient/config.go", "mtproto/tgclient/config.go", "ingestorhttp/ingestorhttp.go"},
	}
	for s, files := range sources {
		var code strings.Builder
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(repo, f))
			if err != nil {
				t.Fatal(err)
			}
			code.Write(b)
		}
		for _, sec := range Secrets[s] {
			if !strings.Contains(code.String(), `"`+sec.Name+`"`) {
				t.Errorf("%s: secret %s is not read by %v", s, sec.Name, files)
			}
		}
	}
}
