package lint

import "github.com/alpha-orion/runbook/engine/load"

// sqlTemplates rejects ${{ }} inside an action's sql input: a value pasted
// into a statement's text can change the statement (a param such as
// `x'); drop table keep; --`). Values go through args, as $1, $2...
type sqlTemplates struct{ Base }

func (*sqlTemplates) Name() string { return "sql-template" }

func (r *sqlTemplates) VisitStep(c *Context, s *load.Step) {
	for _, kv := range s.With {
		if kv.Key.Value != "sql" || kv.Value == nil || kv.Value.Template == nil {
			continue
		}
		pos := kv.Value.Pos
		for _, p := range kv.Value.Template.Parts {
			if p.Expr != nil {
				pos = p.Expr.Pos
				break
			}
		}
		c.Error(pos, r.Name(), "${{ }} inside sql: pastes a value into the statement's text, where it can change the statement (SQL injection): write $1, $2... in the SQL and pass the values through args:")
	}
}
