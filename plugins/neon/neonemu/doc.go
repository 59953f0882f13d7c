// Package neonemu emulates the parts of the Neon API v2 that runbooks use
// (projects, branches, branch restore, operations, connection URIs, and a
// branch's endpoints, databases, roles and role password, which neonctl reads)
// for tests, `runbook drill` and `runbook-sandbox serve neon`, answering with
// the real API's shapes and errors (internal/apicontract holds the contract
// the tests check it against).
//
// Branch data is real: with a pgserver.Server, every branch is a database on
// that local PostgreSQL server and connection URIs point at it. History is
// kept as snapshots: Snapshot (or Options.SnapshotEvery) copies a branch's
// database with CREATE DATABASE … TEMPLATE and labels the copy with the time
// and WAL LSN. A restore to a timestamp or LSN rebuilds the branch from the
// newest snapshot at or before it, so the granularity of point-in-time
// restore is the snapshots taken. As at Neon, a restore is in place: the
// branch keeps its ID, name, compute endpoint and connection URI, and the
// sessions on it are ended; the old state is kept as a branch named
// preserve_under_name, without a compute, which becomes the restored
// branch's parent unless the restored branch is a root.
//
// Without a server the emulator still answers every call, but branches hold
// no data and connection URIs point at made-up Neon hosts.
//
// Tests steer it with fault injection (InjectFault, FailNext, SetLatency,
// FailNextOperations) and read its state back (Branches, Operations,
// Snapshots, Requests).
package neonemu
