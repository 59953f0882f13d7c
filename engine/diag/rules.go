package diag

import "sort"

// RulesURL is the page that documents every rule; a rule's help URI is
// this page with the rule id as its fragment.
const RulesURL = "https://github.com/alpha-orion/runbook/blob/main/docs/rules.md"

// RuleDoc documents one rule id, for docs/rules.md and SARIF rule metadata.
type RuleDoc struct {
	ID    string // as shown in [brackets]
	Stage string // the stage that reports it: load, schema, plan, expression, lint or suppression
	Short string // one sentence: what the rule catches
	Full  string // what it catches, why it matters and how to fix it
}

// HelpURI is the rule's section of docs/rules.md.
func (r RuleDoc) HelpURI() string { return RulesURL + "#" + r.ID }

// Rule returns the documentation of a rule id.
func Rule(id string) (RuleDoc, bool) {
	i := sort.Search(len(rules), func(i int) bool { return rules[i].ID >= id })
	if i < len(rules) && rules[i].ID == id {
		return rules[i], true
	}
	return RuleDoc{}, false
}

// Rules returns the documentation of every rule, ordered by stage as a
// runbook flows through them, then by id.
func Rules() []RuleDoc {
	out := append([]RuleDoc(nil), rules...)
	order := map[string]int{}
	for i, s := range Stages {
		order[s] = i
	}
	sort.SliceStable(out, func(i, j int) bool { return order[out[i].Stage] < order[out[j].Stage] })
	return out
}

// Stages are the stages that report findings, in the order a runbook meets them.
var Stages = []string{"load", "schema", "plan", "expression", "lint", "suppression"}

// rules is sorted by ID (a test checks), so Rule can search it.
var rules = []RuleDoc{
	{"alias", "load", "The file expands to too many values through YAML aliases.",
		"Aliases (`*name`) repeat a value; repeated aliases of aliases can expand a small file into millions of values (a \"billion laughs\"). Runbooks rarely need aliases: write the values out."},
	{"confirm", "lint", "A destructive action runs without a confirm message.",
		"Actions marked destructive (see docs/actions.md) change state that is hard to get back. Give the step `confirm:` with a question a person must approve before the step runs."},
	{"cycle", "plan", "Steps depend on each other in a loop.",
		"`needs` must form a directed acyclic graph. The finding shows the cycle as a path, starting at the earliest step; remove one of its edges."},
	{"documents", "load", "The file holds more than one YAML document.",
		"A runbook file holds exactly one runbook. Split `---`-separated documents into files of their own."},
	{"duplicate-id", "plan", "Two steps share an id.",
		"Step ids name steps in `needs`, in `${{ steps.ID.outputs }}` and in the journal, so each must be unique in the runbook (undo steps included)."},
	{"duplicate-key", "load", "A key appears twice in one mapping.",
		"YAML decoders keep only one of two equal keys, silently. Remove or rename one."},
	{"duplicate-name", "lint", "Two runbooks in one folder share metadata.name.",
		"`runbook run NAME` finds a runbook by name, so names must be unique among the runbooks validated together."},
	{"duration", "lint", "A duration is malformed or not longer than zero.",
		"Timeouts, delays and objectives take a Go duration or days: `30s`, `10m`, `4h`, `1d`. Zero or negative durations are refused."},
	{"empty", "load", "The file holds no YAML document.",
		"An empty file (or one with only comments) is not a runbook. Delete it or write the runbook."},
	{"encoding", "load", "The file is not UTF-8 text.",
		"Runbooks are UTF-8 YAML. A binary file, or text in another encoding, cannot be read; convert it."},
	{"enum", "schema", "A value is not one of the values the language allows there.",
		"Keys such as `apiVersion`, `kind`, `backoff` and a param's `type` take one of a fixed list of values; the message lists them."},
	{"expression", "expression", "A ${{ }} expression or a condition does not parse.",
		"Expressions use the expr language (`when:`, `check:`, `retry.until` and `${{ }}` in values). Fix the syntax the message points at."},
	{"expression-type", "expression", "An expression mixes types that do not go together.",
		"Expressions are type-checked against the params' types and the actions' declared outputs, e.g. a timestamp minus an int. Convert one side or compare values of one type."},
	{"file-name", "lint", "metadata.name differs from the file's name.",
		"`runbook run NAME` and people look for NAME.yaml; name the file after the runbook."},
	{"ignore-reason", "suppression", "A runbook:ignore comment gives no reason.",
		"Write `# runbook:ignore RULE reason`: the reason tells the next reader why the finding does not apply. A suppression without one silences nothing."},
	{"ignore-unused", "suppression", "A runbook:ignore comment matches no finding.",
		"The finding it silenced is gone, or the comment names the wrong rule or sits on the wrong line. Remove the comment, or fix its rule and place."},
	{"input-type", "lint", "An action input has the wrong type.",
		"Each action declares the type of its inputs (docs/actions.md). A literal of another type, or a `${{ }}` whose type does not fit, is refused before the run."},
	{"missing-input", "lint", "A required action input is missing.",
		"`with:` must give every input the action marks required (docs/actions.md)."},
	{"nesting", "load", "Values nest too deeply.",
		"Values nested deeper than 64 levels are refused, to bound the work of every later stage."},
	{"outputs-context", "expression", "`outputs` is used outside check and retry.until.",
		"`outputs` is the current step's outputs, known only once the step has run: in `check:` and `retry.until`. Elsewhere, write `steps.ID.outputs.NAME`."},
	{"param", "lint", "A param's default or enum does not fit its declaration.",
		"A default must have the param's type and be one of its enum values; a required param's default is never used; defaults and enums cannot use ${{ }}."},
	{"pattern", "schema", "A name or id does not match its pattern.",
		"Runbook names and step ids are lower-case letters, digits and dashes, starting and ending with a letter or digit, so they can be file names and expression keys."},
	{"plugin-config", "lint", "A plugin's configuration is wrong or missing.",
		"Plugin settings are checked against the plugin's declared configuration (docs/actions.md): unknown settings, missing required ones, and secrets written as literals are refused."},
	{"required-key", "schema", "A required key is missing.",
		"The language requires some keys: `apiVersion`, `kind`, `metadata.name`, `steps`, and a step's `id` and `uses`. Add it."},
	{"retry", "lint", "A retry policy is out of range or has no effect.",
		"`retry.attempts` is between 1 and 1000; `max_delay` must not be shorter than `delay` and works only with `backoff: exponential`; `retry.until` needs `attempts` to poll more than once."},
	{"schema", "schema", "A value breaks another rule of the language's JSON Schema.",
		"For example a number below its minimum, an empty list where one entry is needed, or an item listed twice."},
	{"secret-literal", "lint", "A secret input is written as a literal.",
		"Inputs and settings marked secret must come from `${{ secrets.NAME }}`, so they never sit in the repository and are masked in output."},
	{"secret-param", "lint", "A param feeds a secret input.",
		"Params are printed and journaled; a value that is secret belongs under `secrets:`, which are masked everywhere."},
	{"self-needs", "plan", "A step needs itself.",
		"A step cannot wait for itself to finish; remove its own id from `needs`."},
	{"size", "load", "The file is larger than 1 MiB.",
		"Runbooks are read whole; split a very large one into several."},
	{"sql-template", "lint", "A ${{ }} is pasted into a `sql:` input.",
		"Text pasted into SQL is an injection: a param such as `x'); drop table keep; --` becomes a statement. Write `$1`, `$2`... in the SQL and pass the values in `args:`, which the database receives as values, never as SQL."},
	{"step-race", "lint", "A step reads another step's outputs without waiting for it.",
		"Steps run in parallel unless `needs` orders them. Reading `steps.ID` of a step that may not have finished gives no value; add that step to `needs`."},
	{"template", "load", "A ${{ }} in a value is malformed.",
		"Every `${{` opens an expression that `}}` must close, within one value."},
	{"type", "schema", "A value has the wrong type.",
		"For example a string where the language wants a mapping, a list or an integer."},
	{"undeclared-param", "expression", "An expression reads a param not declared under params.",
		"Declare the param under `params:` (with its type), or fix the name."},
	{"undeclared-secret", "expression", "An expression reads a secret not declared under secrets.",
		"List the secret under `secrets:`, so the run checks it is set before starting and masks it, or fix the name."},
	{"unknown-action", "lint", "`uses` names no known action.",
		"Use a built-in (log, wait, assert, manual, approval) or PLUGIN.ACTION from docs/actions.md; `runbook actions` lists them."},
	{"unknown-input", "lint", "`with` gives an input the action does not take.",
		"Each action declares its inputs (docs/actions.md); a misspelt or removed input would be ignored, so it is refused."},
	{"unknown-key", "schema", "A key the language does not define.",
		"Unknown keys are rejected rather than dropped, so a misspelt `timeout` does not silently do nothing."},
	{"unknown-needs", "plan", "`needs` names a step that does not exist.",
		"Every id in `needs` must be the id of a step of the runbook."},
	{"unknown-output", "expression", "An expression reads an output the action does not declare.",
		"A step has `outputs` and `status`; `outputs` has the fields the action declares (docs/actions.md)."},
	{"unknown-plugin", "lint", "A plugin name is not known.",
		"Plugins are the shipped providers plus those pinned in runbook-plugins/plugins.lock.json; `runbook plugin list` shows them."},
	{"unknown-step", "expression", "An expression reads a step that does not exist.",
		"`steps.ID` must name a step of the runbook."},
	{"yaml", "load", "The file is not valid YAML.",
		"The position is where the YAML parser gave up. A common cause is an unquoted `${{ }}` or a `?` or `:` inside a flow mapping `{ }`: quote the value."},
}
