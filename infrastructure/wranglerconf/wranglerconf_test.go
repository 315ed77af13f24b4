package wranglerconf

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// repo is the repository root (infrastructure/ is one level below it).
var repo = func() string { d, _ := filepath.Abs("../.."); return d }()

var services = []string{"auth-telegram", "ingestor"}
var envs = []string{"", "staging", "production"}

func TestInheritanceAsWrangler(t *testing.T) {
	const file = `
name = "w"
main = "build/worker.mjs"
compatibility_date = "2026-04-21"
compatibility_flags = ["nodejs_compat"]
workers_dev = false
[vars]
A = "top"
[triggers]
crons = ["1 2 * * *"]
[[services]]
binding = "B"
service = "other"
props = { serviceId = "w" }
[[d1_databases]]
binding = "DB"
database_name = "w"
database_id = "x"
[[queues.producers]]
binding = "Q"
queue = "q"
[[queues.consumers]]
queue = "q"
max_batch_size = 4

[env.bare]

[env.full]
name = "custom"
compatibility_date = "2026-05-01"
[env.full.vars]
A = "full"
[env.full.triggers]
crons = []
[[env.full.services]]
binding = "B"
service = "other-full"
entrypoint = "Admin"
`
	bare, err := Parse("t.toml", []byte(file), "bare")
	if err != nil {
		t.Fatal(err)
	}
	// Inherited: main, dates, flags, workers_dev, triggers; name gets the suffix;
	// vars, services, D1 and queues are not inherited.
	want := &Config{Path: "t.toml", Service: "w", Env: "bare", Name: "w-bare", Main: "build/worker.mjs",
		CompatibilityDate: "2026-04-21", CompatibilityFlags: []string{"nodejs_compat"}, WorkersDev: bare.WorkersDev,
		Vars: map[string]string{}, Crons: []string{"1 2 * * *"}}
	if !reflect.DeepEqual(bare, want) || bare.WorkersDev == nil || *bare.WorkersDev {
		t.Errorf("bare env:\n got %+v\nwant %+v", bare, want)
	}
	full, err := Parse("t.toml", []byte(file), "full")
	if err != nil {
		t.Fatal(err)
	}
	if full.Name != "custom" || full.CompatibilityDate != "2026-05-01" || full.Vars["A"] != "full" || len(full.Crons) != 0 ||
		len(full.Services) != 1 || full.Services[0].Service != "other-full" || full.Services[0].Entrypoint != "Admin" ||
		full.Services[0].Props != nil || len(full.D1) != 0 || len(full.QueueProducers) != 0 || len(full.QueueConsumers) != 0 {
		t.Errorf("full env: %+v", full)
	}
	top, err := Parse("t.toml", []byte(file), "")
	if err != nil {
		t.Fatal(err)
	}
	four := 4.0
	if top.Name != "w" || top.Vars["A"] != "top" || top.Services[0].Props["serviceId"] != "w" || top.D1[0].DatabaseID != "x" ||
		!reflect.DeepEqual(top.QueueProducers, []QueueProducer{{Binding: "Q", Queue: "q"}}) ||
		!reflect.DeepEqual(top.QueueConsumers, []QueueConsumer{{Queue: "q", MaxBatchSize: &four}}) {
		t.Errorf("top level: %+v", top)
	}
	if _, err := Parse("t.toml", []byte(file), "missing"); err == nil || !strings.Contains(err.Error(), "[env.missing] is not defined") {
		t.Errorf("undefined env: %v", err)
	}
}

// TestRefusesWhatItWouldDrop: every key the deployment program does not carry
// is an error naming it, at the top level, in environments and in entries.
func TestRefusesWhatItWouldDrop(t *testing.T) {
	base := "name = \"w\"\nmain = \"m.mjs\"\ncompatibility_date = \"2026-04-21\"\n"
	for _, c := range []struct{ toml, env, want string }{
		{base + "[[kv_namespaces]]\nbinding = \"KV\"\nid = \"1\"\n", "", `"kv_namespaces`},
		{base + "[env.s]\n[[env.s.r2_buckets]]\nbinding = \"R\"\nbucket_name = \"b\"\n", "s", `"env.s.r2_buckets`},
		{base + "[vars]\nN = 3\n", "", "vars.N is a int64"},
		{base + "[[services]]\nbinding = \"S\"\nservice = \"x\"\ncross_account_grant = \"g\"\n", "", "cross_account_grant"},
		{base + "[[d1_databases]]\nbinding = \"DB\"\ndatabase_name = \"d\"\npreview_database_id = \"p\"\n", "", "preview_database_id"},
		{base + "[observability]\nenabled = true\n", "", `"observability`},
		{base + "routes = [{ pattern = \"a.example.com/*\", zone_id = \"z\", extra = 1 }]\n", "", "extra"},
		{base + "[vars]\nDB = \"x\"\n[[d1_databases]]\nbinding = \"DB\"\ndatabase_name = \"d\"\n", "", "binding DB is defined twice"},
		{"main = \"m.mjs\"\ncompatibility_date = \"2026-04-21\"\n", "", "name is not set"},
		{base + "[[queues.producers]]\nbinding = \"Q\"\nqueue = \"q\"\ndelivery_delay = 5\n", "", "delivery_delay is not supported by the deployment program: the provider's queue binding has no such field"},
		{base + "[[queues.producers]]\nbinding = \"Q\"\nqueue = \"q\"\nremote = true\n", "", "field(s) remote not supported"},
		{base + "[[queues.producers]]\nbinding = \"Q\"\n", "", "queues.producers[0]: binding and queue are required"},
		{base + "[[queues.consumers]]\nqueue = \"q\"\nvisibility_timeout_ms = 1000\n", "", "visibility_timeout_ms is not supported by the deployment program"},
		{base + "[[queues.consumers]]\nqueue = \"q\"\ntype = \"http_pull\"\n", "", `type "http_pull": only worker consumers`},
		{base + "[[queues.consumers]]\nqueue = \"q\"\nmax_retries = \"3\"\n", "", "max_retries is a string, not a number"},
		{base + "[env.s]\n[[env.s.queues.consumers]]\nmax_retries = 3\n", "s", "queues.consumers[0]: queue is required"},
		{base + "[queues]\npaused = true\n", "", `"queues.paused"`},
		{base + "[env.s]\n[env.s.queues]\npaused = true\n", "s", `"env.s.queues.paused"`},
		{base + "[vars]\nQ = \"x\"\n[[queues.producers]]\nbinding = \"Q\"\nqueue = \"q\"\n", "", "binding Q is defined twice"},
	} {
		_, err := Parse("t.toml", []byte(c.toml), c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.toml, err, c.want)
		}
	}
}

func TestRoutes(t *testing.T) {
	c, err := Parse("t.toml", []byte(`name = "w"
main = "m.mjs"
compatibility_date = "2026-04-21"
routes = ["bare.example.com/*", { pattern = "api.example.com/*", zone_id = "0123456789abcdef0123456789abcdef" }, { pattern = "auth.example.com", custom_domain = true }]
[env.s]
`), "s")
	if err != nil {
		t.Fatal(err)
	}
	want := []Route{{Pattern: "bare.example.com/*"}, {Pattern: "api.example.com/*", ZoneID: "0123456789abcdef0123456789abcdef"}, {Pattern: "auth.example.com", CustomDomain: true}}
	if !reflect.DeepEqual(c.Routes, want) || c.WorkersDevEnabled() {
		t.Errorf("routes (inherited): %+v, workers.dev %v", c.Routes, c.WorkersDevEnabled())
	}
}

// wranglerView is the part of a worker's configuration that a deployment
// carries, in one shape for both readers.
type wranglerView struct {
	Name               string                    `json:"name"`
	Main               string                    `json:"main"`
	CompatibilityDate  string                    `json:"compatibility_date"`
	CompatibilityFlags []string                  `json:"compatibility_flags"`
	WorkersDev         bool                      `json:"workers_dev"`
	Crons              []string                  `json:"crons"`
	Routes             []map[string]any          `json:"routes"`
	Bindings           map[string]map[string]any `json:"bindings"`
	QueueConsumers     []map[string]any          `json:"queue_consumers"`
}

// readWithWrangler asks the repository's pinned wrangler for its reading of
// each service's config in each environment: unstable_readConfig (what
// `wrangler deploy --env` uses) and unstable_convertConfigBindingsToStartWorkerBindings
// (every binding of every kind wrangler knows, in one map, queue producers
// among them), and the queue consumers as wrangler deploys them.
const readWithWrangler = `
const w = require("wrangler");
const path = require("path");
const out = {};
for (const [file, env] of JSON.parse(process.argv[1])) {
  const c = w.unstable_readConfig({ config: file, env: env || undefined });
  const routes = c.routes ?? (c.route ? [c.route] : []);
  out[file + "#" + env] = {
    name: c.name,
    main: path.relative(path.dirname(path.resolve(file)), c.main),
    compatibility_date: c.compatibility_date,
    compatibility_flags: c.compatibility_flags ?? [],
    workers_dev: c.workers_dev ?? routes.length === 0,
    crons: c.triggers?.crons ?? [],
    routes: routes.map((r) => (typeof r === "string" ? { pattern: r } : r)),
    bindings: w.unstable_convertConfigBindingsToStartWorkerBindings(c) ?? {},
    queue_consumers: c.queues?.consumers ?? [],
  };
}
process.stdout.write(JSON.stringify(out));
`

// TestMatchesWrangler proves that this package reads every service's
// wrangler.toml, for every environment the Pulumi stacks deploy, exactly as
// the pinned wrangler does: names, main, dates, flags, workers.dev, crons,
// routes, every binding of any kind (vars, D1, services with their props,
// queue producers) and the queue consumers with their settings. A binding
// wrangler knows and this package does not fails here. The services' files
// use only some consumer settings, so a file with every one of them (and
// environments with other queues and with none) is compared too.
func TestMatchesWrangler(t *testing.T) {
	wrangler := filepath.Join(repo, "node_modules", "wrangler")
	if _, err := os.Stat(wrangler); err != nil {
		if testing.Short() {
			t.Skipf("skipped in -short mode: %s is missing (run `make deps` at the repository root)", wrangler)
		}
		t.Fatalf("%s is missing: run `make deps` at the repository root (this test compares with the pinned wrangler)", wrangler)
	}
	var pairs [][2]string
	for _, s := range services {
		for _, e := range envs {
			pairs = append(pairs, [2]string{filepath.Join("services", s, "wrangler.toml"), e})
		}
	}
	every := filepath.Join(t.TempDir(), "wrangler.toml")
	if err := os.WriteFile(every, []byte(everyQueueKey), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"", "other", "bare"} {
		pairs = append(pairs, [2]string{every, e})
	}
	arg, _ := json.Marshal(pairs)
	cmd := exec.Command("node", "-e", readWithWrangler, string(arg))
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "WRANGLER_SEND_METRICS=false", "CI=true", "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var theirs map[string]wranglerView
	if err := json.Unmarshal(stdout.Bytes(), &theirs); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	consumers := 0
	for _, p := range pairs {
		file := p[0]
		if !filepath.IsAbs(file) {
			file = filepath.Join(repo, file)
		}
		c, err := Load(file, p[1])
		if err != nil {
			t.Errorf("%s: %v", p[0], err)
			continue
		}
		consumers += len(c.QueueConsumers)
		ours := view(c)
		// Both sides through JSON, so numbers and empty lists compare alike.
		a, _ := json.Marshal(ours)
		b, _ := json.Marshal(theirs[p[0]+"#"+p[1]])
		var av, bv any
		json.Unmarshal(a, &av)
		json.Unmarshal(b, &bv)
		if !reflect.DeepEqual(av, bv) {
			t.Errorf("%s env %q: this package and wrangler disagree\n ours:     %s\n wrangler: %s", p[0], p[1], a, b)
		}
	}
	if consumers == 0 {
		t.Error("no queue consumer was compared")
	}
}

// everyQueueKey sets every queue key wrangler 4.86 deploys, at the top level
// and differently in an environment; an environment without queues has none
// (not inherited).
const everyQueueKey = `
name = "every"
main = "build/worker.mjs"
compatibility_date = "2026-04-21"

[[queues.producers]]
binding = "JOBS"
queue = "jobs"
[[queues.producers]]
binding = "MORE"
queue = "more"

[[queues.consumers]]
queue = "jobs"
type = "worker"
max_batch_size = 10
max_batch_timeout = 0.5
max_retries = 3
dead_letter_queue = "jobs-dead"
max_concurrency = 2
retry_delay = 30

[[queues.consumers]]
queue = "jobs-dead"

[[d1_databases]]
binding = "DB"
database_name = "every"
database_id = "00000000-0000-4000-8000-000000000001"
migrations_dir = "migrations"
[[d1_databases]]
binding = "SHARD_0"
database_name = "every-shard-0"
database_id = "00000000-0000-4000-8000-000000000002"
migrations_dir = "migrations-shard"

[env.other]
[[env.other.queues.producers]]
binding = "JOBS"
queue = "jobs-other"
[[env.other.queues.consumers]]
queue = "jobs-other"
max_batch_size = 1
[[env.other.d1_databases]]
binding = "SHARD_0"
database_name = "every-shard-0-other"
database_id = "00000000-0000-4000-8000-000000000003"
migrations_dir = "migrations-shard"

[env.bare]
`

// view puts a Config in wranglerView's shape (wrangler's binding shapes).
func view(c *Config) wranglerView {
	v := wranglerView{Name: c.Name, Main: c.Main, CompatibilityDate: c.CompatibilityDate,
		CompatibilityFlags: c.CompatibilityFlags, WorkersDev: c.WorkersDevEnabled(), Crons: c.Crons,
		Routes: []map[string]any{}, Bindings: map[string]map[string]any{}}
	if v.CompatibilityFlags == nil {
		v.CompatibilityFlags = []string{}
	}
	if v.Crons == nil {
		v.Crons = []string{}
	}
	for _, r := range c.Routes {
		m := map[string]any{"pattern": r.Pattern}
		if r.ZoneID != "" {
			m["zone_id"] = r.ZoneID
		}
		if r.ZoneName != "" {
			m["zone_name"] = r.ZoneName
		}
		if r.CustomDomain {
			m["custom_domain"] = true
		}
		v.Routes = append(v.Routes, m)
	}
	for k, val := range c.Vars {
		v.Bindings[k] = map[string]any{"type": "plain_text", "value": val}
	}
	for _, s := range c.Services {
		m := map[string]any{"type": "service", "service": s.Service}
		if s.Environment != "" {
			m["environment"] = s.Environment
		}
		if s.Entrypoint != "" {
			m["entrypoint"] = s.Entrypoint
		}
		if s.Props != nil {
			m["props"] = s.Props
		}
		v.Bindings[s.Binding] = m
	}
	for _, d := range c.D1 {
		m := map[string]any{"type": "d1", "database_name": d.DatabaseName}
		if d.DatabaseID != "" {
			m["database_id"] = d.DatabaseID
		}
		if d.MigrationsDir != "" {
			m["migrations_dir"] = d.MigrationsDir
		}
		v.Bindings[d.Binding] = m
	}
	for _, p := range c.QueueProducers {
		v.Bindings[p.Binding] = map[string]any{"type": "queue", "queue_name": p.Queue, "queue": p.Queue}
	}
	v.QueueConsumers = []map[string]any{}
	for _, q := range c.QueueConsumers {
		m := map[string]any{"queue": q.Queue}
		for k, s := range map[string]string{"type": q.Type, "dead_letter_queue": q.DeadLetterQueue} {
			if s != "" {
				m[k] = s
			}
		}
		for k, n := range map[string]*float64{"max_batch_size": q.MaxBatchSize, "max_batch_timeout": q.MaxBatchTimeout,
			"max_retries": q.MaxRetries, "max_concurrency": q.MaxConcurrency, "retry_delay": q.RetryDelay} {
			if n != nil {
				m[k] = *n
			}
		}
		v.QueueConsumers = append(v.QueueConsumers, m)
	}
	return v
}
