// Package deploy is the Pulumi program: both workers of communicator, their D1
// databases, queues and queue consumers, bindings, secrets, cron triggers and
// routes, for the stacks dev, staging and production.
//
// Everything a worker is comes from its wrangler.toml (package wranglerconf):
// the stack dev is wrangler.toml's top level (what `wrangler dev` and `make
// dev` run), staging and production its [env.staging] and [env.production].
// Pulumi config adds only what wrangler.toml cannot hold: the account id, the
// API token, the secrets (as Pulumi config secrets) and routes with their zone
// ids. The program refuses a configuration it would deploy weaker than
// wrangler.toml says, naming every problem at once.
package deploy

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/communicator/communicator/infrastructure/cloudflare"
	"github.com/communicator/communicator/infrastructure/wranglerconf"
)

// Services are deployed in this order: a service binding's target must have
// a completed deployment before a version that binds to it is uploaded.
var Services = []string{"auth-telegram", "ingestor"}

// Stacks maps each Pulumi stack to its wrangler.toml environment.
var Stacks = map[string]string{"dev": "", "staging": "staging", "production": "production"}

// Secret is a secret of a worker: a Pulumi config secret
// "<service>:<Name>", bound as a secret_text binding of the same name.
type Secret struct {
	Name     string
	Required bool
}

// Secrets are each worker's secrets, as its configuration code reads them
// (services/auth-telegram/config.go; authclient/config.go and
// services/ingestor/main.go). TELEGRAM_AUTH_SERVICE_API_KEY is required when
// the ingestor's TELEGRAM_AUTH_TRANSPORT is http (checked separately).
var Secrets = map[string][]Secret{
	"auth-telegram": {
		{Name: "SESSION_SECRET", Required: true},
		{Name: "SESSION_SECRET_PREVIOUS"},
		{Name: "SERVICE_API_KEYS"},
		// Logins and the logouts of revoked sessions; without them logins
		// answer UNAVAILABLE.
		{Name: "TELEGRAM_API_ID"},
		{Name: "TELEGRAM_API_HASH"},
	},
	"ingestor": {
		{Name: "TELEGRAM_API_ID", Required: true},
		{Name: "TELEGRAM_API_HASH", Required: true},
		{Name: "TELEGRAM_AUTH_SERVICE_API_KEY"},
		{Name: "INGESTOR_API_KEYS"},
	},
}

// Options locate the repository.
type Options struct {
	// Root is the repository root, where services/<name>/wrangler.toml are.
	// Pulumi runs the program (and the provider, which reads module files)
	// in infrastructure/, so main.go passes "..".
	Root string
}

// Route is a route or custom domain of a worker in Pulumi config
// (communicator:routes, keyed by service).
type Route struct {
	Pattern      string `json:"pattern"` // a route pattern, or a custom domain's hostname
	ZoneID       string `json:"zoneId"`
	CustomDomain bool   `json:"customDomain"`
}

var (
	hex32   = regexp.MustCompile(`^[0-9a-f]{32}$`)
	imports = regexp.MustCompile(`(?m)(?:^|[;\s])(?:import|export)\s*(?:[\w*{}\s,$]+from\s*)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)`)
)

// worker is what the program deploys for one service.
type worker struct {
	service string
	cfg     *wranglerconf.Config
	modules []cloudflare.Module
	main    string
	secrets map[string]pulumi.StringOutput
	routes  []Route
}

// Program returns the Pulumi program.
func Program(o Options) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		_, err := Deploy(ctx, o)
		return err
	}
}

// Deployed is what Deploy registered, for tests: the outputs it exported.
type Deployed struct {
	Outputs map[string]pulumi.Output
}

// Deploy registers every resource of the stack and exports its outputs.
func Deploy(ctx *pulumi.Context, o Options) (*Deployed, error) {
	workers, accountID, token, err := plan(ctx, o)
	if err != nil {
		return nil, err
	}
	provider, err := cloudflare.NewProvider(ctx, "cloudflare", token)
	if err != nil {
		return nil, err
	}
	out := &Deployed{Outputs: map[string]pulumi.Output{}}
	export := func(k string, v pulumi.Output) {
		ctx.Export(k, v)
		out.Outputs[k] = v
	}
	// Every queue of the stack first: producers bind them by name, consumers
	// by id, and a dead-letter queue must exist before its consumer.
	queues := map[string]*cloudflare.Queue{}
	for _, name := range queueNames(workers) {
		q, err := cloudflare.NewQueue(ctx, "queue-"+name, accountID, name, pulumi.Provider(provider))
		if err != nil {
			return nil, err
		}
		queues[name] = q
		export("queue."+name, q.ID().ToStringOutput())
	}
	// deployments of the workers deployed so far, by worker name: a binding
	// to one of them takes the target's name from its deployment, so the
	// engine orders the upload after it.
	deployments := map[string]*cloudflare.WorkersDeployment{}
	for _, w := range workers {
		p := pulumi.Provider(provider)
		c := w.cfg
		var bindings []cloudflare.Binding
		var dependsOn []pulumi.Resource
		for _, d := range c.D1 {
			db, err := cloudflare.NewD1Database(ctx, w.service+"-d1-"+strings.ToLower(d.Binding),
				cloudflare.D1DatabaseArgs{AccountID: accountID, Name: d.DatabaseName},
				// Replacing a D1 database loses its data: `pulumi destroy`
				// or a replacement must be unprotected on purpose first.
				p, pulumi.Protect(true))
			if err != nil {
				return nil, err
			}
			bindings = append(bindings, cloudflare.Binding{Type: "d1", Name: d.Binding, ID: db.ID().ToStringOutput()})
			export(w.service+".d1."+d.Binding, db.ID().ToStringOutput())
		}
		for _, s := range c.Services {
			if s.Props != nil {
				// plan refused props without an entrypoint: this one names
				// the caller by its entrypoint, and the props stay behind.
				ctx.Log.Info(fmt.Sprintf("%s: service binding %s is deployed to %s#%s without its props %v, which "+
					"provider %s cannot send; the entrypoint identifies the caller", c.Name, s.Binding, s.Service,
					s.Entrypoint, s.Props, cloudflare.Version), nil)
			}
			b := cloudflare.Binding{Type: "service", Name: s.Binding, Service: pulumi.String(s.Service),
				Environment: s.Environment, Entrypoint: s.Entrypoint}
			if dep, ok := deployments[s.Service]; ok {
				b.Service = dep.ScriptName
				dependsOn = append(dependsOn, dep)
			}
			bindings = append(bindings, b)
		}
		for _, q := range c.QueueProducers {
			bindings = append(bindings, cloudflare.Binding{Type: "queue", Name: q.Binding, QueueName: queues[q.Queue].QueueName})
		}
		for _, k := range c.VarNames() {
			bindings = append(bindings, cloudflare.Binding{Type: "plain_text", Name: k, Text: pulumi.String(c.Vars[k])})
		}
		for _, s := range Secrets[w.service] {
			if v, ok := w.secrets[s.Name]; ok {
				bindings = append(bindings, cloudflare.Binding{Type: "secret_text", Name: s.Name, Text: v})
			}
		}

		wk, err := cloudflare.NewWorker(ctx, w.service, cloudflare.WorkerArgs{
			AccountID: accountID, Name: c.Name, WorkersDev: c.WorkersDevEnabled()}, p)
		if err != nil {
			return nil, err
		}
		tag, msg := annotations(w.modules)
		version, err := cloudflare.NewWorkerVersion(ctx, w.service, cloudflare.WorkerVersionArgs{
			AccountID: accountID, WorkerID: wk.ID().ToStringOutput(), MainModule: w.main, Modules: w.modules,
			Bindings: bindings, CompatibilityDate: c.CompatibilityDate, CompatibilityFlags: c.CompatibilityFlags,
			Tag: tag, Message: msg,
		}, p, pulumi.DependsOn(dependsOn))
		if err != nil {
			return nil, err
		}
		dep, err := cloudflare.NewWorkersDeployment(ctx, w.service, cloudflare.WorkersDeploymentArgs{
			AccountID: accountID, ScriptName: wk.Name, VersionID: version.ID().ToStringOutput()}, p)
		if err != nil {
			return nil, err
		}
		deployments[c.Name] = dep
		if len(c.Crons) > 0 {
			if _, err := cloudflare.NewWorkersCronTrigger(ctx, w.service, accountID, dep.ScriptName, c.Crons, p); err != nil {
				return nil, err
			}
		}
		// The consumer names the deployed worker (its deployment's output),
		// so it is registered after the upload, as wrangler deploy does.
		for _, q := range c.QueueConsumers {
			a := cloudflare.QueueConsumerArgs{AccountID: accountID, QueueID: queues[q.Queue].ID().ToStringOutput(),
				ScriptName: dep.ScriptName, BatchSize: q.MaxBatchSize, MaxRetries: q.MaxRetries,
				MaxConcurrency: q.MaxConcurrency, RetryDelay: q.RetryDelay}
			if q.MaxBatchTimeout != nil {
				ms := *q.MaxBatchTimeout * 1000 // wrangler's conversion: seconds in wrangler.toml, ms in the API
				a.MaxWaitTimeMs = &ms
			}
			if q.DeadLetterQueue != "" {
				a.DeadLetterQueue = queues[q.DeadLetterQueue].QueueName
			}
			if _, err := cloudflare.NewQueueConsumer(ctx, w.service+"-consumes-"+q.Queue, a, p); err != nil {
				return nil, err
			}
		}
		for i, r := range w.routes {
			name := fmt.Sprintf("%s-%d", w.service, i)
			if r.CustomDomain {
				_, err = cloudflare.NewWorkersCustomDomain(ctx, name, accountID, r.ZoneID, r.Pattern, dep.ScriptName, p)
			} else {
				_, err = cloudflare.NewWorkersRoute(ctx, name, r.ZoneID, r.Pattern, dep.ScriptName, p)
			}
			if err != nil {
				return nil, err
			}
		}
		export(w.service+".name", dep.ScriptName)
		export(w.service+".versionId", version.ID().ToStringOutput())
		export(w.service+".build", pulumi.String(tag).ToStringOutput())
		export(w.service+".workersDev", pulumi.Bool(c.WorkersDevEnabled()).ToBoolOutput())
	}
	return out, nil
}

// plan reads and checks everything before anything is registered, and
// returns every problem in one error.
func plan(ctx *pulumi.Context, o Options) ([]*worker, string, pulumi.StringOutput, error) {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var token pulumi.StringOutput

	stack := ctx.Stack()
	env, ok := Stacks[stack]
	if !ok {
		return nil, "", token, fmt.Errorf("stack %q is not one of dev, staging, production", stack)
	}
	proj := config.New(ctx, "")
	accountID := proj.Get("accountId")
	if !hex32.MatchString(accountID) {
		fail("%s:accountId must be the 32-hex Cloudflare account id (pulumi config set accountId <id>)", ctx.Project())
	}
	token, ok = secret(ctx, "cloudflare", "apiToken", fail)
	if !ok {
		fail("cloudflare:apiToken is not set (pulumi config set --secret cloudflare:apiToken <token>)")
	}
	var routes map[string][]Route
	if err := proj.TryObject("routes", &routes); err != nil && !errors.Is(err, config.ErrMissingVar) {
		fail("%s:routes: %v", ctx.Project(), err)
	}
	for s := range routes {
		if !slices.Contains(Services, s) {
			fail("%s:routes names unknown service %q", ctx.Project(), s)
		}
	}

	var workers []*worker
	names := map[string]string{} // worker name -> service
	for _, s := range Services {
		c, err := wranglerconf.Load(filepath.Join(o.Root, "services", s, "wrangler.toml"), env)
		if err != nil {
			fail("%v", err)
			continue
		}
		w := &worker{service: s, cfg: c, secrets: map[string]pulumi.StringOutput{}}
		workers = append(workers, w)
		names[c.Name] = s

		buildDir := filepath.Join(o.Root, "services", s, filepath.Dir(c.Main))
		if d := config.New(ctx, s).Get("buildDir"); d != "" {
			buildDir = d
		}
		w.main = path.Base(c.Main)
		w.modules, err = modules(buildDir, w.main)
		if err != nil {
			fail("%s: %v", s, err)
		}

		for _, sec := range Secrets[s] {
			if _, clash := c.Vars[sec.Name]; clash {
				fail("%s: %s is both a var in wrangler.toml and a secret", s, sec.Name)
			}
			v, ok := secret(ctx, s, sec.Name, fail)
			switch {
			case ok:
				w.secrets[sec.Name] = v
			case sec.Required:
				fail("%s:%s is not set (pulumi config set --secret %s:%s ...)", s, sec.Name, s, sec.Name)
			}
		}

		for _, r := range c.Routes {
			w.routes = append(w.routes, Route{Pattern: r.Pattern, ZoneID: r.ZoneID, CustomDomain: r.CustomDomain})
		}
		w.routes = append(w.routes, routes[s]...)
		for _, r := range w.routes {
			if err := checkRoute(r); err != nil {
				fail("%s: %v", s, err)
			}
		}

		// Provider 6.17.0 cannot send a service binding's props (its
		// service bindings have no such field), but can send its
		// entrypoint. A callee that identifies its caller by a named
		// entrypoint loses nothing when the props stay behind (Deploy
		// says so); one that only has the props would not know who calls.
		for _, b := range c.Services {
			if b.Props != nil && b.Entrypoint == "" {
				fail("%s (stack %s): service binding %s has props %v and no entrypoint; Cloudflare provider %s cannot "+
					"deploy props (its service bindings have none), so %s would not know who calls. Bind a named "+
					"entrypoint of %s that identifies this caller (entrypoint = \"<Name>\" in the binding in "+
					"wrangler.toml; see docs/deploy.md, \"Adding a caller\")",
					c.Name, stack, b.Binding, b.Props, cloudflare.Version, b.Service, b.Service)
			}
		}
	}
	for _, w := range workers {
		if w.service == "ingestor" {
			checkIngestor(w, names, fail)
		}
	}
	checkQueues(workers, stack, fail)
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, "", token, fmt.Errorf("stack %s cannot be deployed:\n  - %s", stack, strings.Join(problems, "\n  - "))
	}
	return workers, accountID, token, nil
}

// checkIngestor holds what only the ingestor's code knows: which transport
// it uses to reach auth-telegram and what that transport needs, and which
// message databases INGEST_SHARDS needs.
func checkIngestor(w *worker, names map[string]string, fail func(string, ...any)) {
	c := w.cfg
	// Messages live in INGEST_SHARDS D1 databases bound as MESSAGES_0 to
	// MESSAGES_{N-1}. More bindings than shards is how a shard is added
	// (docs/deploy.md): its database is created and migrated before
	// INGEST_SHARDS counts it.
	if v, ok := c.Vars["INGEST_SHARDS"]; ok {
		d1 := map[string]bool{}
		for _, d := range c.D1 {
			d1[d.Binding] = true
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fail("%s: INGEST_SHARDS is %q, not a positive number of message databases", c.Name, v)
		}
		for i := 0; i < n && i <= len(c.D1); i++ {
			if b := fmt.Sprintf("MESSAGES_%d", i); !d1[b] {
				fail("%s: INGEST_SHARDS is %d but there is no D1 binding %s (the shards are MESSAGES_0 to MESSAGES_%d)", c.Name, n, b, n-1)
			}
		}
	}
	var auth *wranglerconf.ServiceBinding
	for i, b := range c.Services {
		if b.Binding == "TELEGRAM_AUTH" {
			auth = &c.Services[i]
		}
	}
	transport := c.Vars["TELEGRAM_AUTH_TRANSPORT"]
	if transport == "" {
		transport = "auto"
	}
	if auth != nil && names[auth.Service] != "auth-telegram" {
		fail("%s: TELEGRAM_AUTH binds %q, not the auth-telegram of this stack", c.Name, auth.Service)
	}
	if transport == "binding" && auth == nil {
		fail("%s: TELEGRAM_AUTH_TRANSPORT is binding but there is no TELEGRAM_AUTH binding", c.Name)
	}
	if transport == "http" || (transport == "auto" && auth == nil) {
		if u, err := url.Parse(c.Vars["TELEGRAM_AUTH_SERVICE_ENDPOINT"]); err != nil || u.Scheme != "https" || u.Host == "" {
			fail("%s: TELEGRAM_AUTH_TRANSPORT is http, so TELEGRAM_AUTH_SERVICE_ENDPOINT must be auth-telegram's https URL + /api/telegram-auth", c.Name)
		}
		if _, ok := w.secrets["TELEGRAM_AUTH_SERVICE_API_KEY"]; !ok {
			fail("ingestor:TELEGRAM_AUTH_SERVICE_API_KEY is not set, and TELEGRAM_AUTH_TRANSPORT is http (pulumi config set --secret ingestor:TELEGRAM_AUTH_SERVICE_API_KEY ...)")
		}
	}
}

// queueNames returns every queue the workers produce to, consume or
// dead-letter to, sorted: the queues of the stack.
func queueNames(workers []*worker) []string {
	var names []string
	for _, w := range workers {
		for _, p := range w.cfg.QueueProducers {
			names = append(names, p.Queue)
		}
		for _, q := range w.cfg.QueueConsumers {
			names = append(names, q.Queue)
			if q.DeadLetterQueue != "" {
				names = append(names, q.DeadLetterQueue)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// checkQueues refuses consumers the stack cannot serve: a consumer of a queue
// that no worker of the stack produces to and no consumer dead-letters to
// (nothing would ever arrive: a queue name of another environment, or a
// typo), and a queue with two consumers (a queue has one consumer).
func checkQueues(workers []*worker, stack string, fail func(string, ...any)) {
	fed := map[string]bool{}
	consumer := map[string]string{}
	for _, w := range workers {
		for _, p := range w.cfg.QueueProducers {
			fed[p.Queue] = true
		}
		for _, q := range w.cfg.QueueConsumers {
			if q.DeadLetterQueue != "" {
				fed[q.DeadLetterQueue] = true
			}
		}
	}
	for _, w := range workers {
		c := w.cfg
		for _, q := range c.QueueConsumers {
			if !fed[q.Queue] {
				fail("%s (stack %s): consumes queue %s, which no worker of the stack produces to ([[queues.producers]]) and no "+
					"consumer dead-letters to; nothing would arrive (is it another environment's queue?)", c.Name, stack, q.Queue)
			}
			if other, ok := consumer[q.Queue]; ok {
				fail("%s (stack %s): consumes queue %s, which %s consumes already; a queue has one consumer", c.Name, stack, q.Queue, other)
			}
			consumer[q.Queue] = c.Name
			if q.DeadLetterQueue == q.Queue {
				fail("%s (stack %s): queue %s is its own dead-letter queue", c.Name, stack, q.Queue)
			}
		}
	}
}

// secret reads "<namespace>:<key>" as a secret. A value stored in plain text
// in the stack's config is a problem: it would sit unencrypted in
// Pulumi.<stack>.yaml.
func secret(ctx *pulumi.Context, namespace, key string, fail func(string, ...any)) (pulumi.StringOutput, bool) {
	v, err := config.New(ctx, namespace).TrySecret(key)
	if err != nil {
		return v, false
	}
	if !ctx.IsConfigSecret(namespace + ":" + key) {
		fail("%s:%s is stored in plain text; set it with pulumi config set --secret", namespace, key)
	}
	return v, true
}

func checkRoute(r Route) error {
	if !hex32.MatchString(r.ZoneID) {
		return fmt.Errorf("route %q needs the zone's 32-hex Zone ID as zoneId (got %q; the account id is not a zone id)", r.Pattern, r.ZoneID)
	}
	if r.Pattern == "" {
		return errors.New("a route without a pattern")
	}
	if r.CustomDomain && strings.ContainsAny(r.Pattern, "/*") {
		return fmt.Errorf("custom domain %q must be a bare hostname", r.Pattern)
	}
	return nil
}

// modules returns the modules of a build: the main module and every module it
// imports, transitively, with their content types and SHA-256 hashes. An
// import of a file that is missing, or of a package (wrangler would bundle
// it; this program uploads the build as it is), is an error; the runtime's
// own modules (cloudflare:*, node:*) are not uploaded.
func modules(dir, main string) ([]cloudflare.Module, error) {
	if _, err := os.Stat(filepath.Join(dir, main)); err != nil {
		return nil, fmt.Errorf("%s is missing: run `make build` first", filepath.Join(dir, main))
	}
	var out []cloudflare.Module
	seen := map[string]bool{}
	queue := []string{main}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		file := filepath.Join(dir, filepath.FromSlash(name))
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("module %s: %v (run `make build`)", name, err)
		}
		m := cloudflare.Module{Name: name, ContentFile: file}
		sum := sha256.Sum256(b)
		m.SHA256 = hex.EncodeToString(sum[:])
		switch path.Ext(name) {
		case ".mjs", ".js":
			m.ContentType = cloudflare.ContentTypeESModule
			for _, match := range imports.FindAllStringSubmatch(string(b), -1) {
				spec := cmp.Or(match[1], match[2])
				switch {
				case strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../"):
					ref := path.Clean(path.Join(path.Dir(name), spec))
					if strings.HasPrefix(ref, "../") {
						return nil, fmt.Errorf("module %s imports %s, outside the build directory", name, spec)
					}
					queue = append(queue, ref)
				case strings.HasPrefix(spec, "cloudflare:") || strings.HasPrefix(spec, "node:"):
				default:
					return nil, fmt.Errorf("module %s imports %q, which is neither a file of the build nor a runtime module", name, spec)
				}
			}
		case ".wasm":
			m.ContentType = cloudflare.ContentTypeWasm
		default:
			return nil, fmt.Errorf("module %s: no content type for %q files", name, path.Ext(name))
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// annotations are a version's tag (the SHA-256 of every module's name, type
// and hash: one value per build) and message (each module's hash).
func annotations(ms []cloudflare.Module) (tag, msg string) {
	h := sha256.New()
	var parts []string
	for _, m := range ms {
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", m.Name, m.ContentType, m.SHA256)
		parts = append(parts, m.Name+" sha256:"+m.SHA256)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), "build " + strings.Join(parts, ", ")
}
