// Package cloudflare is a small typed layer over the resources of the Pulumi
// Cloudflare provider that this program uses, registered by type token.
//
// Why not the provider's generated Go SDK (github.com/pulumi/pulumi-cloudflare/sdk/v6)?
// It cannot be fetched in the environment this repository is built in (the Go
// module proxy does not serve it), and the program needs only nine resource
// types. The provider plugin itself is an ordinary Pulumi resource plugin: a
// program registers resources with ctx.RegisterResource(token, name, inputs)
// exactly as the generated SDK does, and the engine installs the plugin of the
// version the registration asks for (`pulumi plugin install resource
// cloudflare 6.17.0` does it ahead of time).
//
// Everything is pinned to one provider release, Version (6.17.0, built on
// the Terraform provider v5.19.1): every registration passes
// pulumi.Version(Version), as the generated SDK of that release does. The
// tokens and input names below were read in that release's sources (see
// ../../docs/deploy.md and the research notes it cites); an input this layer
// does not model cannot be sent by mistake, because each resource takes a
// Go struct, not a free-form map.
//
// What provider 6.17.0 cannot carry, and this layer therefore cannot either:
//   - a service binding's props (WorkerVersion bindings have name, type,
//     service, environment and entrypoint, no props; neither does Terraform
//     provider v5.22.0). The deploy package deploys a binding with props only
//     when it also names an entrypoint, which then identifies the caller, and
//     refuses a binding that relies on props alone.
//   - a queue producer binding's delivery_delay (a queue binding has name,
//     type and queue_name only); wranglerconf refuses it.
package cloudflare

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Version is the provider release every resource is registered with.
const Version = "6.17.0"

// Type tokens of provider 6.17.0.
const (
	TypeProvider            = "pulumi:providers:cloudflare"
	TypeD1Database          = "cloudflare:index/d1Database:D1Database"
	TypeWorker              = "cloudflare:index/worker:Worker"
	TypeWorkerVersion       = "cloudflare:index/workerVersion:WorkerVersion"
	TypeWorkersDeployment   = "cloudflare:index/workersDeployment:WorkersDeployment"
	TypeWorkersCronTrigger  = "cloudflare:index/workersCronTrigger:WorkersCronTrigger"
	TypeWorkersRoute        = "cloudflare:index/workersRoute:WorkersRoute"
	TypeWorkersCustomDomain = "cloudflare:index/workersCustomDomain:WorkersCustomDomain"
	TypeQueue               = "cloudflare:index/queue:Queue"
	TypeQueueConsumer       = "cloudflare:index/queueConsumer:QueueConsumer"
)

// Content types of Worker modules (what wrangler sends for each module kind).
const (
	ContentTypeESModule = "application/javascript+module"
	ContentTypeWasm     = "application/wasm"
)

func pinned(opts []pulumi.ResourceOption) []pulumi.ResourceOption {
	return append(append([]pulumi.ResourceOption(nil), opts...), pulumi.Version(Version))
}

// Provider is an explicit Cloudflare provider.
type Provider struct {
	pulumi.ProviderResourceState
}

// NewProvider registers the provider with an API token (keep it secret:
// pass a config secret).
func NewProvider(ctx *pulumi.Context, name string, apiToken pulumi.StringInput, opts ...pulumi.ResourceOption) (*Provider, error) {
	var p Provider
	err := ctx.RegisterResource(TypeProvider, name, pulumi.Map{"apiToken": apiToken}, &p, pinned(opts)...)
	return &p, err
}

// D1Database is a D1 database. Its ID is the database's UUID, what a d1
// binding's id takes.
type D1Database struct {
	pulumi.CustomResourceState
	Name pulumi.StringOutput `pulumi:"name"`
}

// D1DatabaseArgs are its inputs.
type D1DatabaseArgs struct {
	AccountID string
	Name      string
}

// NewD1Database registers a D1 database.
func NewD1Database(ctx *pulumi.Context, name string, a D1DatabaseArgs, opts ...pulumi.ResourceOption) (*D1Database, error) {
	var r D1Database
	err := ctx.RegisterResource(TypeD1Database, name, pulumi.Map{
		"accountId": pulumi.String(a.AccountID),
		"name":      pulumi.String(a.Name),
	}, &r, pinned(opts)...)
	return &r, err
}

// Worker is the container of a Worker's versions and deployments (beta
// resource of the provider; its ID is an immutable Worker ID).
type Worker struct {
	pulumi.CustomResourceState
	Name pulumi.StringOutput `pulumi:"name"`
}

// WorkerArgs are its inputs.
type WorkerArgs struct {
	AccountID  string
	Name       string
	WorkersDev bool // the <name>.<account subdomain>.workers.dev address
}

// NewWorker registers a Worker.
func NewWorker(ctx *pulumi.Context, name string, a WorkerArgs, opts ...pulumi.ResourceOption) (*Worker, error) {
	var r Worker
	err := ctx.RegisterResource(TypeWorker, name, pulumi.Map{
		"accountId": pulumi.String(a.AccountID),
		"name":      pulumi.String(a.Name),
		"subdomain": pulumi.Map{"enabled": pulumi.Bool(a.WorkersDev)},
	}, &r, pinned(opts)...)
	return &r, err
}

// Module is one module of a version. The provider reads ContentFile when it
// plans and uploads it base64-encoded; SHA256 is ours (the deploy package
// computes it and records it in the version's annotations), not an input.
type Module struct {
	Name        string
	ContentType string
	ContentFile string
	SHA256      string
}

// Binding is one binding of a version. Only the fields of its Type are set.
type Binding struct {
	Type string // plain_text, secret_text, d1, service, queue
	Name string
	// plain_text and secret_text (a secret_text's Text must be a secret).
	Text pulumi.StringInput
	// d1: the database's UUID.
	ID pulumi.StringInput
	// service: the target Worker's name, and optionally its entrypoint.
	Service     pulumi.StringInput
	Environment string
	Entrypoint  string
	// queue (a producer): the queue's name (queue_name), not its id.
	QueueName pulumi.StringInput
}

func (b Binding) input() pulumi.Map {
	m := pulumi.Map{"type": pulumi.String(b.Type), "name": pulumi.String(b.Name)}
	if b.Text != nil {
		m["text"] = b.Text
	}
	if b.ID != nil {
		m["id"] = b.ID
	}
	if b.Service != nil {
		m["service"] = b.Service
	}
	if b.Environment != "" {
		m["environment"] = pulumi.String(b.Environment)
	}
	if b.Entrypoint != "" {
		m["entrypoint"] = pulumi.String(b.Entrypoint)
	}
	if b.QueueName != nil {
		m["queueName"] = b.QueueName
	}
	return m
}

// WorkerVersion is an immutable version of a Worker: its modules, bindings
// and compatibility settings.
type WorkerVersion struct {
	pulumi.CustomResourceState
	WorkerID pulumi.StringOutput `pulumi:"workerId"`
}

// WorkerVersionArgs are its inputs.
type WorkerVersionArgs struct {
	AccountID          string
	WorkerID           pulumi.StringInput // the Worker's ID or name
	MainModule         string
	Modules            []Module
	Bindings           []Binding
	CompatibilityDate  string
	CompatibilityFlags []string
	// Tag and Message annotate the version (workers/tag, at most 100 bytes;
	// workers/message, at most 1000): the deploy package puts the build's
	// content hashes there, so a changed build is a changed version and the
	// dashboard shows which build runs.
	Tag, Message string
}

// NewWorkerVersion registers a version.
func NewWorkerVersion(ctx *pulumi.Context, name string, a WorkerVersionArgs, opts ...pulumi.ResourceOption) (*WorkerVersion, error) {
	modules := pulumi.Array{}
	for _, m := range a.Modules {
		modules = append(modules, pulumi.Map{
			"name":        pulumi.String(m.Name),
			"contentType": pulumi.String(m.ContentType),
			"contentFile": pulumi.String(m.ContentFile),
		})
	}
	bindings := pulumi.Array{}
	for _, b := range a.Bindings {
		bindings = append(bindings, b.input())
	}
	flags := pulumi.StringArray{}
	for _, f := range a.CompatibilityFlags {
		flags = append(flags, pulumi.String(f))
	}
	var r WorkerVersion
	err := ctx.RegisterResource(TypeWorkerVersion, name, pulumi.Map{
		"accountId":          pulumi.String(a.AccountID),
		"workerId":           a.WorkerID,
		"mainModule":         pulumi.String(a.MainModule),
		"modules":            modules,
		"bindings":           bindings,
		"compatibilityDate":  pulumi.String(a.CompatibilityDate),
		"compatibilityFlags": flags,
		"annotations": pulumi.Map{
			"workersTag":     pulumi.String(a.Tag),
			"workersMessage": pulumi.String(a.Message),
		},
	}, &r, pinned(opts)...)
	return &r, err
}

// WorkersDeployment sends all traffic of a Worker to one version.
type WorkersDeployment struct {
	pulumi.CustomResourceState
	ScriptName pulumi.StringOutput `pulumi:"scriptName"`
}

// WorkersDeploymentArgs are its inputs.
type WorkersDeploymentArgs struct {
	AccountID  string
	ScriptName pulumi.StringInput
	VersionID  pulumi.StringInput
}

// NewWorkersDeployment registers a deployment of 100% of traffic to one
// version.
func NewWorkersDeployment(ctx *pulumi.Context, name string, a WorkersDeploymentArgs, opts ...pulumi.ResourceOption) (*WorkersDeployment, error) {
	var r WorkersDeployment
	err := ctx.RegisterResource(TypeWorkersDeployment, name, pulumi.Map{
		"accountId":  pulumi.String(a.AccountID),
		"scriptName": a.ScriptName,
		"strategy":   pulumi.String("percentage"),
		"versions": pulumi.Array{pulumi.Map{
			"percentage": pulumi.Float64(100),
			"versionId":  a.VersionID,
		}},
	}, &r, pinned(opts)...)
	return &r, err
}

// WorkersCronTrigger sets a Worker's cron schedules.
type WorkersCronTrigger struct {
	pulumi.CustomResourceState
}

// NewWorkersCronTrigger registers a Worker's cron schedules.
func NewWorkersCronTrigger(ctx *pulumi.Context, name, accountID string, scriptName pulumi.StringInput, crons []string, opts ...pulumi.ResourceOption) (*WorkersCronTrigger, error) {
	schedules := pulumi.Array{}
	for _, c := range crons {
		schedules = append(schedules, pulumi.Map{"cron": pulumi.String(c)})
	}
	var r WorkersCronTrigger
	err := ctx.RegisterResource(TypeWorkersCronTrigger, name, pulumi.Map{
		"accountId":  pulumi.String(accountID),
		"scriptName": scriptName,
		"schedules":  schedules,
	}, &r, pinned(opts)...)
	return &r, err
}

// WorkersRoute sends requests matching a pattern in a zone to a Worker.
type WorkersRoute struct {
	pulumi.CustomResourceState
}

// NewWorkersRoute registers a route. zoneID is the zone's 32-hex Zone ID
// (the API path is /zones/{zone_id}/workers/routes), never the account id.
func NewWorkersRoute(ctx *pulumi.Context, name, zoneID, pattern string, script pulumi.StringInput, opts ...pulumi.ResourceOption) (*WorkersRoute, error) {
	var r WorkersRoute
	err := ctx.RegisterResource(TypeWorkersRoute, name, pulumi.Map{
		"zoneId":  pulumi.String(zoneID),
		"pattern": pulumi.String(pattern),
		"script":  script,
	}, &r, pinned(opts)...)
	return &r, err
}

// WorkersCustomDomain serves a hostname of a zone by a Worker.
type WorkersCustomDomain struct {
	pulumi.CustomResourceState
}

// NewWorkersCustomDomain registers a custom domain.
func NewWorkersCustomDomain(ctx *pulumi.Context, name, accountID, zoneID, hostname string, service pulumi.StringInput, opts ...pulumi.ResourceOption) (*WorkersCustomDomain, error) {
	var r WorkersCustomDomain
	err := ctx.RegisterResource(TypeWorkersCustomDomain, name, pulumi.Map{
		"accountId": pulumi.String(accountID),
		"zoneId":    pulumi.String(zoneID),
		"hostname":  pulumi.String(hostname),
		"service":   service,
	}, &r, pinned(opts)...)
	return &r, err
}

// Queue is a queue. Its ID is the queue's id, what a consumer's queueId
// takes; producers bind it by name.
type Queue struct {
	pulumi.CustomResourceState
	QueueName pulumi.StringOutput `pulumi:"queueName"`
}

// NewQueue registers a queue (inputs accountId and queueName; its settings,
// delivery delay and message retention, are left to Cloudflare's defaults).
func NewQueue(ctx *pulumi.Context, name, accountID, queueName string, opts ...pulumi.ResourceOption) (*Queue, error) {
	var r Queue
	err := ctx.RegisterResource(TypeQueue, name, pulumi.Map{
		"accountId": pulumi.String(accountID),
		"queueName": pulumi.String(queueName),
	}, &r, pinned(opts)...)
	return &r, err
}

// QueueConsumer makes a Worker the consumer of a queue (type "worker": the
// queue pushes batches to the Worker's queue() handler).
type QueueConsumer struct {
	pulumi.CustomResourceState
	ScriptName pulumi.StringOutput `pulumi:"scriptName"`
}

// QueueConsumerArgs are its inputs. A nil setting is left out (Cloudflare's
// default).
type QueueConsumerArgs struct {
	AccountID  string
	QueueID    pulumi.StringInput // the queue's id (Queue.ID), not its name
	ScriptName pulumi.StringInput // the consuming Worker's name
	// DeadLetterQueue is the name of the queue that gets messages out of
	// retries; nil for none.
	DeadLetterQueue pulumi.StringInput
	BatchSize       *float64 // messages per batch
	MaxRetries      *float64
	MaxWaitTimeMs   *float64 // milliseconds a batch waits to fill
	MaxConcurrency  *float64
	RetryDelay      *float64 // seconds before a retried message is delivered again
}

// NewQueueConsumer registers a Worker consumer of a queue.
func NewQueueConsumer(ctx *pulumi.Context, name string, a QueueConsumerArgs, opts ...pulumi.ResourceOption) (*QueueConsumer, error) {
	in := pulumi.Map{
		"accountId":  pulumi.String(a.AccountID),
		"queueId":    a.QueueID,
		"type":       pulumi.String("worker"),
		"scriptName": a.ScriptName,
	}
	if a.DeadLetterQueue != nil {
		in["deadLetterQueue"] = a.DeadLetterQueue
	}
	settings := pulumi.Map{}
	for k, v := range map[string]*float64{"batchSize": a.BatchSize, "maxRetries": a.MaxRetries,
		"maxWaitTimeMs": a.MaxWaitTimeMs, "maxConcurrency": a.MaxConcurrency, "retryDelay": a.RetryDelay} {
		if v != nil {
			settings[k] = pulumi.Float64(*v)
		}
	}
	if len(settings) > 0 {
		in["settings"] = settings
	}
	var r QueueConsumer
	err := ctx.RegisterResource(TypeQueueConsumer, name, in, &r, pinned(opts)...)
	return &r, err
}
