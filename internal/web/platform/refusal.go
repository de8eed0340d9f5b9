package platform

import (
	"net/http"

	"github.com/kabinet-billing/kabinet/internal/derrors"
)

// kinds maps each error kind to its HTTP status and the message code shown
// when the error carries none of its own.
var kinds = []struct {
	kind   error
	status int
	code   string
}{
	{derrors.NotFound, http.StatusNotFound, "not_found"},
	{derrors.Invalid, http.StatusUnprocessableEntity, "invalid"},
	{derrors.Conflict, http.StatusConflict, ""},
	{derrors.Forbidden, http.StatusForbidden, ""},
	{derrors.Unavailable, http.StatusServiceUnavailable, "unavailable"},
}

// Refusal maps a capability's error to what an HTML page or the JSON API
// shows: the status of its kind, and the message id under prefix (such as
// "admin.error.") for the error's own code, else for its kind, when that
// id is translated. An unexpected error gives (0, ""): the caller fails it.
func (t *I18n) Refusal(err error, prefix string) (status int, id string) {
	k := derrors.Kind(err)
	for _, c := range kinds {
		if c.kind != k {
			continue
		}
		for _, code := range []string{derrors.Code(err), c.code} {
			if code != "" && t.Has(prefix+code) {
				return c.status, prefix + code
			}
		}
		return c.status, ""
	}
	return 0, ""
}
