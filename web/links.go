package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// urlValues builds a query from key, value pairs, leaving out empty values.
func urlValues(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

// pathID reads the numeric {id} of the route.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &httpError{http.StatusNotFound, "Not found."}
	}
	return id, nil
}

// redirectDone sends the browser back to path after an action, with the
// outcome (a key of doneText) and an anchor.
func redirectDone(w http.ResponseWriter, r *http.Request, path, done, anchor string) {
	redirectTo(w, r, path, "done", done, anchor)
}

// redirectErr sends the browser back to path with an error (a key of
// errText) and an anchor.
func redirectErr(w http.ResponseWriter, r *http.Request, path, key, anchor string) {
	redirectTo(w, r, path, "err", key, anchor)
}

func redirectTo(w http.ResponseWriter, r *http.Request, path, param, key, anchor string) {
	u := fmt.Sprintf("%s?%s=%s", path, param, url.QueryEscape(key))
	if anchor != "" {
		u += "#" + anchor
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}
