//go:build !unix

package radius

import (
	"os"
	"path/filepath"
)

// lockDir only marks dir: there is no flock here.
func lockDir(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o600)
}
