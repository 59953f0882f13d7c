package catalog

// Names of the built-in actions, run by the engine itself.
const (
	BuiltinLog      = "log"
	BuiltinWait     = "wait"
	BuiltinAssert   = "assert"
	BuiltinManual   = "manual"
	BuiltinApproval = "approval"
)

// Builtins are the actions every runbook can use without a plugin.
var Builtins = []Action{
	{
		Name:        BuiltinLog,
		Description: "Print a message to the run's output and journal.",
		Inputs:      []Field{{Name: "message", Type: String, Required: true}},
		Outputs:     []Field{{Name: "message", Type: String}},
		Idempotent:  true,
	},
	{
		Name:        BuiltinWait,
		Description: "Pause the run for a duration.",
		Inputs:      []Field{{Name: "duration", Type: Duration, Required: true}},
		Idempotent:  true,
	},
	{
		Name:        BuiltinAssert,
		Description: "Fail the step unless an expression holds.",
		Inputs: []Field{
			{Name: "that", Type: Bool, Required: true, Description: "the condition, usually one ${{ }} expression"},
			{Name: "message", Type: String, Description: "what to say when it does not hold"},
		},
		Idempotent: true,
	},
	{
		Name:        BuiltinManual,
		Description: "An operator does something by hand and confirms it is done.",
		Inputs:      []Field{{Name: "instructions", Type: String, Required: true}},
		Outputs:     []Field{{Name: "confirmed_by", Type: String}, {Name: "confirmed_at", Type: Timestamp}},
	},
	{
		Name:        BuiltinApproval,
		Description: "A gate: the run waits until a person approves.",
		Inputs:      []Field{{Name: "message", Type: String, Required: true}},
		Outputs:     []Field{{Name: "approved_by", Type: String}, {Name: "approved_at", Type: Timestamp}},
	},
}

// IsBuiltin reports whether uses names a built-in action.
func IsBuiltin(uses string) bool {
	switch uses {
	case BuiltinLog, BuiltinWait, BuiltinAssert, BuiltinManual, BuiltinApproval:
		return true
	}
	return false
}
