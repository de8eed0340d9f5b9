// Package migrations holds the schema, one folder per dialect, embedded into
// the binary. Version ranges keep parallel work apart: 1–99 foundation,
// 100–199 payments, 200–299 RADIUS and traffic, 300–399 portal, support and
// content, 400–499 back office and mail, 500–599 API and speed test,
// 600–699 operations.
package migrations

import "embed"

//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
