// Command infrastructure is the Pulumi program that deploys communicator's
// two workers to Cloudflare (stacks dev, staging, production). See
// docs/deploy.md for the runbook and package deploy for what it does.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/communicator/communicator/infrastructure/deploy"
)

func main() {
	// Pulumi runs the program in this directory; the services are one up.
	pulumi.Run(deploy.Program(deploy.Options{Root: ".."}))
}
