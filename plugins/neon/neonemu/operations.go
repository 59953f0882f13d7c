package neonemu

// newOperation records an operation on b; call with mu held.
func (e *Emulator) newOperation(b *branch, action string) *operation {
	now := e.now()
	op := &operation{Operation: Operation{
		ID:         uuid(),
		ProjectID:  b.ProjectID,
		BranchID:   b.ID,
		EndpointID: b.endpointID,
		Action:     action,
		Status:     StatusScheduling,
		CreatedAt:  now,
		UpdatedAt:  now,
	}}
	if e.failOps > 0 {
		e.failOps--
		op.fail = true
	}
	op.hold, e.holdPolls = e.holdPolls, 0
	e.ops[op.ID] = op
	e.opList = append(e.opList, op)
	return op
}

// advance counts one poll of op and moves it a status further every
// PollsPerStep polls: scheduling → running → finished (or failed); call with mu held.
func (e *Emulator) advance(op *operation) {
	if Terminal(op.Status) {
		return
	}
	if op.polls++; op.polls < e.opts.PollsPerStep {
		return
	}
	b := e.branches[op.BranchID]
	switch op.Status {
	case StatusScheduling:
		op.Status = StatusRunning
	case StatusRunning:
		if b != nil && b.busy {
			return // the data is still moving
		}
		if op.hold > 0 {
			op.hold--
			return // a slow operation (SlowNextOperation)
		}
		op.Status = StatusFinished
		if op.fail {
			op.Status, op.Error, op.FailuresCount = StatusFailed, "emulated failure (FailNextOperations)", 1
		}
	}
	op.polls = 0
	op.UpdatedAt = e.now()
	if Terminal(op.Status) {
		op.TotalDurationMs = op.UpdatedAt.Sub(op.CreatedAt).Milliseconds()
	}
	if b != nil {
		e.settle(b)
	}
}

// settle marks b ready once none of its operations is running; call with mu held.
func (e *Emulator) settle(b *branch) {
	if b.busy || b.CurrentState == "ready" {
		return
	}
	for _, op := range e.ops {
		if op.BranchID == b.ID && !Terminal(op.Status) {
			return
		}
	}
	now := e.now()
	b.CurrentState, b.PendingState, b.StateChangedAt, b.UpdatedAt = "ready", "", now, now
}

// locked reports whether a new operation on b must wait (Neon answers 423); call with mu held.
func (e *Emulator) locked(b *branch) bool {
	for _, other := range e.branches {
		if other.busy && (other == b || e.opts.ProjectLock && other.ProjectID == b.ProjectID) {
			return true
		}
	}
	for _, op := range e.ops {
		if Terminal(op.Status) {
			continue
		}
		if op.BranchID == b.ID || e.opts.ProjectLock && op.ProjectID == b.ProjectID {
			return true
		}
	}
	return false
}

// projectOperations returns the operations of a project, oldest first; call with mu held.
func (e *Emulator) projectOperations(projectID string) []Operation {
	var out []Operation
	for _, op := range e.opList {
		if op.ProjectID == projectID {
			out = append(out, op.Operation)
		}
	}
	return out
}

// FinishOperations drives every unfinished operation to its final status, as
// if a client had polled them all; it returns how many it moved.
func (e *Emulator) FinishOperations() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, op := range e.opList {
		if Terminal(op.Status) {
			continue
		}
		n++
		for i := 0; i < 4*e.opts.PollsPerStep && !Terminal(op.Status); i++ {
			e.advance(op)
		}
	}
	return n
}
