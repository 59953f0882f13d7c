// Package terraformspec is the terraform plugin's catalogue entry: what validate and plan
// need to know about its actions, without the plugin's dependencies, so the
// runbook core can link it.
package terraformspec

import (
	"github.com/alpha-orion/runbook/engine/catalog"
)

// Name is the name the plugin is served under: steps use `terraform.ACTION`.
const Name = "terraform"

// varInputs select the variables of a plan or an apply.
var varInputs = []catalog.Field{
	{Name: "vars", Type: catalog.Map, Description: "variables by name, passed as -var, e.g. {region: frankfurt}"},
	{Name: "secret_vars", Type: catalog.Map, Secret: true, Description: "variables whose values are secret: passed in a private var file, masked in logs and errors"},
	{Name: "var_files", Type: catalog.List, Description: "var files (.tfvars or .tfvars.json), relative to dir"},
	{Name: "targets", Type: catalog.List, Description: "resource addresses to limit the run to (-target); for emergencies only"},
}

// changeOutputs describe what a plan would change or an apply changed.
var changeOutputs = []catalog.Field{
	{Name: "changes", Type: catalog.Bool, Description: "anything (resources or outputs) changes"},
	{Name: "summary", Type: catalog.String, Description: `e.g. "2 to add, 1 to change, 0 to destroy"`},
	{Name: "add", Type: catalog.Int},
	{Name: "change", Type: catalog.Int},
	{Name: "destroy", Type: catalog.Int},
}

// outputOutputs carry the configuration's outputs, sensitive ones apart.
var outputOutputs = []catalog.Field{
	{Name: "outputs", Type: catalog.Map, Description: "the non-sensitive outputs by name"},
	{Name: "sensitive_outputs", Type: catalog.Map, Secret: true, Description: "the sensitive outputs by name; never logged"},
}

// Spec is the plugin's catalogue entry.
var Spec = catalog.Plugin{
	Name: Name,
	Description: "Terraform, driving the terraform binary with hashicorp/terraform-exec: init, plan and apply with " +
		"variables, read outputs, and change a variable's default in a .tf file (the DR plan's region failover).",
	Config: []catalog.Field{
		{Name: "dir", Type: catalog.String, Required: true, Description: "the working directory: the root module, e.g. terraform"},
		{Name: "binary", Type: catalog.String, Description: "the terraform binary; default terraform on PATH"},
		{Name: "env", Type: catalog.Map, Description: "environment variables for terraform, e.g. TF_VAR_region or TF_DATA_DIR"},
		{Name: "secret_env", Type: catalog.Map, Secret: true, Description: "environment variables whose values are secret, e.g. a provider's API key"},
	},
	Actions: []catalog.Action{
		{
			Name:        "init",
			Description: "Run terraform init: backend and providers.",
			Inputs: []catalog.Field{
				{Name: "upgrade", Type: catalog.Bool, Description: "upgrade providers and modules within their constraints"},
				{Name: "reconfigure", Type: catalog.Bool, Description: "ignore the saved backend configuration"},
				{Name: "backend_config", Type: catalog.Map, Description: "backend settings by name (-backend-config=key=value)"},
			},
			Outputs:    []catalog.Field{{Name: "version", Type: catalog.String, Description: "the terraform binary's version"}},
			Idempotent: true,
			ReadOnly:   true,
		},
		{
			Name: "plan",
			Description: "Run terraform plan and say what would change, read from the saved plan's JSON. The plan is kept " +
				"for apply's plan_file, with its SHA-256, so the apply runs exactly the plan a person approved.",
			Inputs: varInputs,
			Outputs: append(append([]catalog.Field(nil), changeOutputs...),
				catalog.Field{Name: "resource_changes", Type: catalog.List, Description: `one "ACTION ADDRESS" per changing resource, e.g. "update terraform_data.api"`},
				catalog.Field{Name: "plan_file", Type: catalog.String, Description: "the saved plan, under dir's .terraform/runbook (it may hold variable values: it is private to the user)"},
				catalog.Field{Name: "plan_sha256", Type: catalog.String, Description: "the saved plan's SHA-256, hex: pass it to apply, so an approval of the apply covers this exact plan"}),
			Idempotent: true,
			ReadOnly:   true,
		},
		{
			Name: "apply",
			Description: "Apply a saved plan (plan_file and plan_sha256 from a plan step: terraform apply PLANFILE, which " +
				"refuses a plan whose state has changed since), or else run terraform apply -auto-approve with the " +
				"variables. After a crash, the step counts as done when a plan with the same variables shows no changes.",
			Inputs: append(append([]catalog.Field(nil), varInputs...),
				catalog.Field{Name: "plan_file", Type: catalog.String, Description: "a plan step's plan_file: apply exactly it (no variables then)"},
				catalog.Field{Name: "plan_sha256", Type: catalog.String, Description: "the plan step's plan_sha256; required with plan_file, checked before applying"}),
			Outputs:     append(append([]catalog.Field(nil), changeOutputs...), outputOutputs...),
			Destructive: true,
		},
		{
			Name:        "output",
			Description: "Read the outputs from the state.",
			Inputs: []catalog.Field{
				{Name: "name", Type: catalog.String, Description: "one output to return as value (or secret_value, when sensitive)"},
			},
			Outputs: append(append([]catalog.Field(nil), outputOutputs...),
				catalog.Field{Name: "value", Type: catalog.Any, Description: "the named output, when it is not sensitive"},
				catalog.Field{Name: "secret_value", Type: catalog.String, Secret: true, Description: "the named output as text (JSON unless a string), when it is sensitive"},
				catalog.Field{Name: "sensitive", Type: catalog.Bool, Description: "the named output is sensitive"},
			),
			Idempotent: true,
			ReadOnly:   true,
		},
		{
			Name: "set_default",
			Description: "Set a variable's default in the .tf file that declares it, keeping the rest of the file " +
				"byte for byte, e.g. variable \"region\" { default = \"frankfurt\" }. Setting the value it has changes nothing.",
			Inputs: []catalog.Field{
				{Name: "variable", Type: catalog.String, Required: true, Description: "the variable's name, e.g. region"},
				{Name: "value", Type: catalog.Any, Required: true, Description: "the new default: a string, number, bool, list or map, checked against the variable's type"},
				{Name: "file", Type: catalog.String, Description: "the file, relative to dir; default the .tf file in dir that declares the variable"},
			},
			Outputs: []catalog.Field{
				{Name: "previous", Type: catalog.Any, Description: "the default before, as a value (null when there was none), for an undo"},
				{Name: "previous_expr", Type: catalog.String, Description: "the default before, as written in the file"},
				{Name: "changed", Type: catalog.Bool, Description: "the file was changed"},
				{Name: "file", Type: catalog.String, Description: "the file, relative to dir"},
			},
			Idempotent: true,
		},
		{
			Name: "state_rm",
			Description: "Make Terraform forget resources without destroying them (terraform state rm), e.g. the services " +
				"of a region whose API is down, so the next plan creates their replacements instead of destroying " +
				"objects it cannot reach. The objects stay; delete them by hand later. An address the state does not " +
				"hold is reported in absent, so the step can run again.",
			Inputs: []catalog.Field{
				{Name: "addresses", Type: catalog.List, Required: true, Description: "resource addresses, e.g. [render_web_service.api]"},
			},
			Outputs: []catalog.Field{
				{Name: "removed", Type: catalog.List, Description: "the addresses removed from the state"},
				{Name: "absent", Type: catalog.List, Description: "the addresses the state did not hold"},
			},
			Idempotent: true,
		},
	},
}
