package neonemu

import "time"

// Project is a Neon project as the API returns it;
// its fields are the API's JSON fields named in their tags.
type Project struct {
	ID                          string    `json:"id"`
	PlatformID                  string    `json:"platform_id"`
	RegionID                    string    `json:"region_id"`
	Name                        string    `json:"name"`
	Provisioner                 string    `json:"provisioner"`
	PgVersion                   int       `json:"pg_version"`
	ProxyHost                   string    `json:"proxy_host"`
	BranchLogicalSizeLimit      int64     `json:"branch_logical_size_limit"`
	BranchLogicalSizeLimitBytes int64     `json:"branch_logical_size_limit_bytes"`
	StorePasswords              bool      `json:"store_passwords"`
	ActiveTime                  int64     `json:"active_time"`
	ActiveTimeSeconds           int64     `json:"active_time_seconds"`
	ComputeTimeSeconds          int64     `json:"compute_time_seconds"`
	CPUUsedSec                  int64     `json:"cpu_used_sec"`
	WrittenDataBytes            int64     `json:"written_data_bytes"`
	DataTransferBytes           int64     `json:"data_transfer_bytes"`
	DataStorageBytesHour        int64     `json:"data_storage_bytes_hour"`
	CreationSource              string    `json:"creation_source"`
	HistoryRetentionSeconds     int64     `json:"history_retention_seconds"`
	OwnerID                     string    `json:"owner_id"`
	ConsumptionPeriodStart      time.Time `json:"consumption_period_start"`
	ConsumptionPeriodEnd        time.Time `json:"consumption_period_end"`
	CreatedAt                   time.Time `json:"created_at"`
	UpdatedAt                   time.Time `json:"updated_at"`
}

// Branch is a Neon branch as the API returns it;
// its fields are the API's JSON fields named in their tags.
type Branch struct {
	ID                 string     `json:"id"`
	ProjectID          string     `json:"project_id"`
	ParentID           string     `json:"parent_id,omitempty"`
	ParentLSN          string     `json:"parent_lsn,omitempty"`
	ParentTimestamp    *time.Time `json:"parent_timestamp,omitempty"`
	Name               string     `json:"name"`
	CurrentState       string     `json:"current_state"`
	PendingState       string     `json:"pending_state,omitempty"`
	StateChangedAt     time.Time  `json:"state_changed_at"`
	LogicalSize        int64      `json:"logical_size"`
	CreationSource     string     `json:"creation_source"`
	InitSource         string     `json:"init_source,omitempty"`
	Default            bool       `json:"default"`
	Primary            bool       `json:"primary"`
	Protected          bool       `json:"protected"`
	RestoreStatus      string     `json:"restore_status,omitempty"`
	RestoredFrom       string     `json:"restored_from,omitempty"`
	RestoredAs         string     `json:"restored_as,omitempty"`
	LastResetAt        *time.Time `json:"last_reset_at,omitempty"`
	CPUUsedSec         int64      `json:"cpu_used_sec"`
	ComputeTimeSeconds int64      `json:"compute_time_seconds"`
	ActiveTimeSeconds  int64      `json:"active_time_seconds"`
	WrittenDataBytes   int64      `json:"written_data_bytes"`
	DataTransferBytes  int64      `json:"data_transfer_bytes"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

// Operation is a Neon operation as the API returns it;
// its fields are the API's JSON fields named in their tags.
type Operation struct {
	ID              string    `json:"id"`
	ProjectID       string    `json:"project_id"`
	BranchID        string    `json:"branch_id,omitempty"`
	EndpointID      string    `json:"endpoint_id,omitempty"`
	Action          string    `json:"action"`
	Status          string    `json:"status"`
	Error           string    `json:"error,omitempty"`
	FailuresCount   int       `json:"failures_count"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	TotalDurationMs int64     `json:"total_duration_ms"`
}

// Operation statuses, as Neon names them.
const (
	StatusScheduling = "scheduling"
	StatusRunning    = "running"
	StatusFinished   = "finished"
	StatusFailed     = "failed"
	StatusError      = "error"
	StatusCancelling = "cancelling"
	StatusCancelled  = "cancelled"
	StatusSkipped    = "skipped"
)

// Terminal reports whether an operation status is final.
func Terminal(status string) bool {
	switch status {
	case StatusFinished, StatusFailed, StatusError, StatusCancelled, StatusSkipped:
		return true
	}
	return false
}

// Snapshot is one recorded point of a branch's history.
type Snapshot struct {
	// ID names the snapshot; a branch restored from it shows it as restored_from.
	ID string
	// BranchID is the branch whose history this point belongs to.
	BranchID string
	// Time is when the branch had this state.
	Time time.Time
	// LSN is the WAL position at that time, in PostgreSQL's "X/Y" form.
	LSN string
	// Database is the read-only copy holding the data; empty without a server.
	Database string
}

// apiError is Neon's error body.
type apiError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// annotation is the annotation GET …/branches/{branch_id} answers with the branch.
type annotation struct {
	Object annotationObject  `json:"object"`
	Value  map[string]string `json:"value"`
}

// annotationObject names what an annotation is attached to.
type annotationObject struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// restoreRequest is the body of POST …/branches/{branch_id}/restore.
type restoreRequest struct {
	SourceBranchID    string  `json:"source_branch_id"`
	SourceLSN         *string `json:"source_lsn"`
	SourceTimestamp   *string `json:"source_timestamp"`
	PreserveUnderName *string `json:"preserve_under_name"`
}

// cursorPagination is the pagination object of the branch list.
type cursorPagination struct {
	Next      string `json:"next,omitempty"`
	SortBy    string `json:"sort_by,omitempty"`
	SortOrder string `json:"sort_order,omitempty"`
}
