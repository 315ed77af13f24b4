// Package wranglerconf reads a service's wrangler.toml the way wrangler does,
// so that the Pulumi program deploys exactly what `wrangler dev` runs and
// `wrangler deploy --env <env>` would deploy: one source of truth.
//
// It models wrangler 4.86.0's rules for environments
// (normalizeAndValidateEnvironment in wrangler-dist/cli.js):
//
//   - inherited from the top level when an environment does not set them:
//     main, compatibility_date, compatibility_flags, workers_dev, route,
//     routes and triggers;
//   - name is the top-level name plus "-<env>" unless the environment sets it;
//   - not inherited: vars, services, d1_databases and queues (an environment
//     without them has none).
//
// It is strict: any key it does not model (a KV namespace, a non-string
// var, a service binding or queue field it does not know...) is an error
// naming the key, never something silently left out of a deployment. A test
// (TestMatchesWrangler) compares what it reads with wrangler's own reading of
// the same files, so the two cannot drift apart unnoticed.
package wranglerconf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	// BurntSushi/toml rather than pelletier/go-toml: it reports every key
	// that was not decoded (MetaData.Undecoded), which is how this package
	// refuses what it does not model; it has no dependencies of its own.
	"github.com/BurntSushi/toml"
)

// Config is one worker in one environment, as wrangler resolves it.
type Config struct {
	Path    string // the wrangler.toml it was read from
	Service string // the top-level name, e.g. "ingestor"
	Env     string // "" for the top level (local dev and the Pulumi stack "dev")

	Name               string // the deployed worker's name, e.g. "ingestor-staging"
	Main               string // as written, relative to the wrangler.toml's directory
	CompatibilityDate  string
	CompatibilityFlags []string
	WorkersDev         *bool // nil: wrangler's default (on when there are no routes)
	Vars               map[string]string
	Services           []ServiceBinding
	D1                 []D1Binding
	QueueProducers     []QueueProducer
	QueueConsumers     []QueueConsumer
	Crons              []string
	Routes             []Route
}

// ServiceBinding is a [[services]] entry.
type ServiceBinding struct {
	Binding     string
	Service     string
	Environment string
	Entrypoint  string
	Props       map[string]any
}

// D1Binding is a [[d1_databases]] entry. DatabaseID is the local
// placeholder in this repository; deployments bind the D1 database they
// create instead.
type D1Binding struct {
	Binding       string
	DatabaseName  string
	DatabaseID    string
	MigrationsDir string
}

// QueueProducer is a [[queues.producers]] entry: a binding that sends to a
// queue.
type QueueProducer struct {
	Binding string
	Queue   string
}

// QueueConsumer is a [[queues.consumers]] entry: the worker consumes a
// queue. A setting left out is nil (Cloudflare's default). The numbers are
// as wrangler reads them (TOML integers or floats).
type QueueConsumer struct {
	Queue           string
	Type            string   // "" or "worker", the only kind wrangler configures
	MaxBatchSize    *float64 // messages per batch
	MaxBatchTimeout *float64 // seconds a batch waits to fill
	MaxRetries      *float64 // deliveries retried before a message is dropped or dead-lettered
	DeadLetterQueue string   // the queue that gets messages out of retries
	MaxConcurrency  *float64 // concurrent consumer invocations
	RetryDelay      *float64 // seconds before a retried message is delivered again
}

// Route is a route or custom domain of wrangler.toml. A bare pattern (no
// zone) is kept with an empty ZoneID: the deployment program refuses it.
type Route struct {
	Pattern      string
	ZoneID       string
	ZoneName     string
	CustomDomain bool
}

// WorkersDevEnabled is whether the worker gets a workers.dev address:
// workers_dev if set, otherwise on exactly when there are no routes
// (wrangler's getSubdomainValues).
func (c *Config) WorkersDevEnabled() bool {
	if c.WorkersDev != nil {
		return *c.WorkersDev
	}
	return len(c.Routes) == 0
}

// VarNames returns the names of Vars, sorted.
func (c *Config) VarNames() []string {
	names := make([]string, 0, len(c.Vars))
	for k := range c.Vars {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// rawEnv is what the top level and each [env.<name>] may hold. Pointers and
// nil slices tell "not set" (inherit) from "set empty".
type rawEnv struct {
	Name               *string           `toml:"name"`
	Main               *string           `toml:"main"`
	CompatibilityDate  *string           `toml:"compatibility_date"`
	CompatibilityFlags *[]string         `toml:"compatibility_flags"`
	WorkersDev         *bool             `toml:"workers_dev"`
	Route              any               `toml:"route"`
	Routes             *[]any            `toml:"routes"`
	Vars               *map[string]any   `toml:"vars"`
	Services           *[]map[string]any `toml:"services"`
	D1Databases        *[]map[string]any `toml:"d1_databases"`
	Queues             *rawQueues        `toml:"queues"`
	Triggers           *rawTriggers      `toml:"triggers"`
}

type rawQueues struct {
	Producers []map[string]any `toml:"producers"`
	Consumers []map[string]any `toml:"consumers"`
}

type rawTriggers struct {
	Crons []string `toml:"crons"`
}

type rawFile struct {
	rawEnv
	Env map[string]rawEnv `toml:"env"`
}

// Load reads path for env ("" for the top level). env must be defined in the
// file unless it is "".
func Load(path, env string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b, env)
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// Parse is Load of a file's contents.
func Parse(path string, data []byte, env string) (*Config, error) {
	var f rawFile
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var problems []string
	reported := map[string]bool{}
	for _, k := range md.Undecoded() {
		// Values of the free-form tables (vars, props, bindings) are
		// checked below; anything else undecoded is a key this package
		// does not model (reported once, not once per field inside it).
		if isFreeForm(k) || reported[k[:len(k)-1].String()] {
			reported[k.String()] = true
			continue
		}
		reported[k.String()] = true
		problems = append(problems, fmt.Sprintf("key %q is not supported by the deployment program (it would be dropped)", k.String()))
	}
	top := &f.rawEnv
	raw := top
	if env != "" {
		e, ok := f.Env[env]
		if !ok {
			return nil, fmt.Errorf("%s: [env.%s] is not defined", path, env)
		}
		raw = &e
	}
	c := &Config{Path: path, Env: env, Vars: map[string]string{}}
	if top.Name == nil || *top.Name == "" {
		problems = append(problems, "name is not set")
	} else {
		c.Service = *top.Name
	}
	// inherited: the environment's own value, else the top level's.
	str := func(own, inherited *string) string {
		if raw != top && own != nil {
			return *own
		}
		if inherited != nil {
			return *inherited
		}
		return ""
	}
	c.Name = str(raw.Name, nil)
	if c.Name == "" {
		c.Name = c.Service
		if env != "" {
			c.Name = c.Service + "-" + env
		}
	}
	c.Main = str(raw.Main, top.Main)
	c.CompatibilityDate = str(raw.CompatibilityDate, top.CompatibilityDate)
	switch {
	case raw.CompatibilityFlags != nil:
		c.CompatibilityFlags = *raw.CompatibilityFlags
	case top.CompatibilityFlags != nil:
		c.CompatibilityFlags = *top.CompatibilityFlags
	}
	c.WorkersDev = raw.WorkersDev
	if c.WorkersDev == nil {
		c.WorkersDev = top.WorkersDev
	}
	triggers := raw.Triggers
	if triggers == nil {
		triggers = top.Triggers
	}
	if triggers != nil {
		c.Crons = triggers.Crons
	}
	route, routes := raw.Route, raw.Routes
	if route == nil && routes == nil {
		route, routes = top.Route, top.Routes
	}
	if route != nil {
		r, err := parseRoute(route)
		if err != nil {
			problems = append(problems, "route: "+err.Error())
		} else {
			c.Routes = append(c.Routes, r)
		}
	}
	if routes != nil {
		for i, v := range *routes {
			r, err := parseRoute(v)
			if err != nil {
				problems = append(problems, fmt.Sprintf("routes[%d]: %v", i, err))
			} else {
				c.Routes = append(c.Routes, r)
			}
		}
	}

	// Not inherited: only the environment's own.
	if raw.Vars != nil {
		for k, v := range *raw.Vars {
			s, ok := v.(string)
			if !ok {
				problems = append(problems, fmt.Sprintf("vars.%s is a %T, not a string: the deployment program carries string vars only", k, v))
				continue
			}
			c.Vars[k] = s
		}
	}
	if raw.Services != nil {
		for i, m := range *raw.Services {
			s, err := parseService(m)
			if err != nil {
				problems = append(problems, fmt.Sprintf("services[%d]: %v", i, err))
				continue
			}
			c.Services = append(c.Services, s)
		}
	}
	if raw.D1Databases != nil {
		for i, m := range *raw.D1Databases {
			d, err := parseD1(m)
			if err != nil {
				problems = append(problems, fmt.Sprintf("d1_databases[%d]: %v", i, err))
				continue
			}
			c.D1 = append(c.D1, d)
		}
	}
	if raw.Queues != nil {
		for i, m := range raw.Queues.Producers {
			p, err := parseProducer(m)
			if err != nil {
				problems = append(problems, fmt.Sprintf("queues.producers[%d]: %v", i, err))
				continue
			}
			c.QueueProducers = append(c.QueueProducers, p)
		}
		for i, m := range raw.Queues.Consumers {
			q, err := parseConsumer(m)
			if err != nil {
				problems = append(problems, fmt.Sprintf("queues.consumers[%d]: %v", i, err))
				continue
			}
			c.QueueConsumers = append(c.QueueConsumers, q)
		}
	}

	if c.Main == "" {
		problems = append(problems, "main is not set")
	}
	if c.CompatibilityDate == "" {
		problems = append(problems, "compatibility_date is not set")
	}
	if c.Name != "" && !nameRE.MatchString(c.Name) {
		problems = append(problems, fmt.Sprintf("name %q is not a valid worker name", c.Name))
	}
	seen := map[string]bool{}
	for _, n := range c.bindingNames() {
		if seen[n] {
			problems = append(problems, fmt.Sprintf("binding %s is defined twice", n))
		}
		seen[n] = true
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		where := path
		if env != "" {
			where += " [env." + env + "]"
		}
		return nil, errors.New(where + ": " + strings.Join(problems, "; "))
	}
	return c, nil
}

// bindingNames lists every binding name (vars, services, D1, queue
// producers).
func (c *Config) bindingNames() []string {
	var names []string
	names = append(names, c.VarNames()...)
	for _, s := range c.Services {
		names = append(names, s.Binding)
	}
	for _, d := range c.D1 {
		names = append(names, d.Binding)
	}
	for _, p := range c.QueueProducers {
		names = append(names, p.Binding)
	}
	return names
}

// isFreeForm reports whether k lies inside a table this package decodes
// into a map and checks itself.
func isFreeForm(k toml.Key) bool {
	i := 0 // top level: [vars...]; environments: [env.X.vars...]
	if len(k) > 2 && k[0] == "env" {
		i = 2
	}
	if len(k) <= i {
		return false
	}
	switch k[i] {
	case "vars", "services", "d1_databases", "route", "routes":
		return true
	case "queues":
		// the entries of queues.producers and queues.consumers; any
		// other table under queues is not modelled.
		return len(k) > i+2 && (k[i+1] == "producers" || k[i+1] == "consumers")
	}
	return false
}

// take removes key from m and returns it as a string ("" if absent).
func take(m map[string]any, key string) (string, error) {
	v, ok := m[key]
	if !ok {
		return "", nil
	}
	delete(m, key)
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s is a %T, not a string", key, v)
	}
	return s, nil
}

func leftover(m map[string]any) error {
	if len(m) == 0 {
		return nil
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return fmt.Errorf("field(s) %s not supported by the deployment program (they would be dropped)", strings.Join(keys, ", "))
}

func copyMap(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func parseService(m map[string]any) (ServiceBinding, error) {
	m = copyMap(m)
	var s ServiceBinding
	var errs []error
	for key, dst := range map[string]*string{"binding": &s.Binding, "service": &s.Service, "environment": &s.Environment, "entrypoint": &s.Entrypoint} {
		v, err := take(m, key)
		errs = append(errs, err)
		*dst = v
	}
	if p, ok := m["props"]; ok {
		delete(m, "props")
		props, ok := p.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("props is a %T, not a table", p))
		}
		s.Props = props
	}
	errs = append(errs, leftover(m))
	if s.Binding == "" || s.Service == "" {
		errs = append(errs, errors.New("binding and service are required"))
	}
	return s, errors.Join(errs...)
}

func parseD1(m map[string]any) (D1Binding, error) {
	m = copyMap(m)
	var d D1Binding
	var errs []error
	for key, dst := range map[string]*string{"binding": &d.Binding, "database_name": &d.DatabaseName, "database_id": &d.DatabaseID, "migrations_dir": &d.MigrationsDir} {
		v, err := take(m, key)
		errs = append(errs, err)
		*dst = v
	}
	errs = append(errs, leftover(m))
	if d.Binding == "" || d.DatabaseName == "" {
		errs = append(errs, errors.New("binding and database_name are required"))
	}
	return d, errors.Join(errs...)
}

func parseProducer(m map[string]any) (QueueProducer, error) {
	m = copyMap(m)
	var p QueueProducer
	var errs []error
	for key, dst := range map[string]*string{"binding": &p.Binding, "queue": &p.Queue} {
		v, err := take(m, key)
		errs = append(errs, err)
		*dst = v
	}
	if _, ok := m["delivery_delay"]; ok {
		// Cloudflare provider 6.17.0's queue binding (a WorkerVersion
		// binding of type queue) has name and queue_name only.
		delete(m, "delivery_delay")
		errs = append(errs, errors.New("delivery_delay is not supported by the deployment program: the provider's queue binding has no "+
			"such field (it would be dropped); pass delaySeconds to send() instead"))
	}
	errs = append(errs, leftover(m))
	if p.Binding == "" || p.Queue == "" {
		errs = append(errs, errors.New("binding and queue are required"))
	}
	return p, errors.Join(errs...)
}

func parseConsumer(m map[string]any) (QueueConsumer, error) {
	m = copyMap(m)
	var q QueueConsumer
	var errs []error
	for key, dst := range map[string]*string{"queue": &q.Queue, "type": &q.Type, "dead_letter_queue": &q.DeadLetterQueue} {
		v, err := take(m, key)
		errs = append(errs, err)
		*dst = v
	}
	for key, dst := range map[string]**float64{"max_batch_size": &q.MaxBatchSize, "max_batch_timeout": &q.MaxBatchTimeout,
		"max_retries": &q.MaxRetries, "max_concurrency": &q.MaxConcurrency, "retry_delay": &q.RetryDelay} {
		v, err := takeNumber(m, key)
		errs = append(errs, err)
		*dst = v
	}
	if _, ok := m["visibility_timeout_ms"]; ok {
		// wrangler 4.86 validates it but leaves it out of the consumer it
		// deploys: the two deployments would differ.
		delete(m, "visibility_timeout_ms")
		errs = append(errs, errors.New("visibility_timeout_ms is not supported by the deployment program: it is a pull consumer's "+
			"lease, and wrangler 4.86 does not deploy it for a worker consumer"))
	}
	errs = append(errs, leftover(m))
	if q.Queue == "" {
		errs = append(errs, errors.New("queue is required"))
	}
	if q.Type != "" && q.Type != "worker" {
		errs = append(errs, fmt.Errorf("type %q: only worker consumers can be configured in wrangler.toml", q.Type))
	}
	return q, errors.Join(errs...)
}

// takeNumber removes key from m and returns it as a number (nil if absent).
func takeNumber(m map[string]any, key string) (*float64, error) {
	v, ok := m[key]
	if !ok {
		return nil, nil
	}
	delete(m, key)
	var f float64
	switch v := v.(type) {
	case int64:
		f = float64(v)
	case float64:
		f = v
	default:
		return nil, fmt.Errorf("%s is a %T, not a number", key, v)
	}
	return &f, nil
}

func parseRoute(v any) (Route, error) {
	switch v := v.(type) {
	case string:
		return Route{Pattern: v}, nil
	case map[string]any:
		m := copyMap(v)
		var r Route
		var errs []error
		for key, dst := range map[string]*string{"pattern": &r.Pattern, "zone_id": &r.ZoneID, "zone_name": &r.ZoneName} {
			s, err := take(m, key)
			errs = append(errs, err)
			*dst = s
		}
		if cd, ok := m["custom_domain"]; ok {
			delete(m, "custom_domain")
			b, ok := cd.(bool)
			if !ok {
				errs = append(errs, errors.New("custom_domain is not a boolean"))
			}
			r.CustomDomain = b
		}
		errs = append(errs, leftover(m))
		if r.Pattern == "" {
			errs = append(errs, errors.New("pattern is required"))
		}
		return r, errors.Join(errs...)
	default:
		return Route{}, fmt.Errorf("a route is a string or a table, not a %T", v)
	}
}

// MainPath is Main resolved against the wrangler.toml's directory.
func (c *Config) MainPath() string { return filepath.Join(filepath.Dir(c.Path), c.Main) }
