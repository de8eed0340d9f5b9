// Package migrations holds the schema, one folder per dialect, embedded into
// the binary. README.md says how they are numbered: a range of versions per
// area, applied out of order.
package migrations

import "embed"

//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
