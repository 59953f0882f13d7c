package journal

import "github.com/alpha-orion/runbook/engine/redact"

// mask returns e with secrets masked in its values, before it is encoded:
// the text a person or a plugin supplied (params, inputs, outputs,
// messages) is masked; the fields the journal is read by (seq, time, type,
// ids, keys, kinds) are never touched, so no secret can change a record's
// structure.
func mask(r *redact.Redactor, e Event) Event {
	if r == nil {
		return e
	}
	e.Params = maskMap(r, e.Params)
	e.Inputs = maskMap(r, e.Inputs)
	e.Outputs = maskMap(r, e.Outputs)
	e.Message = r.String(e.Message)
	return e
}

func maskMap(r *redact.Redactor, m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out, _ := r.Value(m).(map[string]any)
	return out
}
