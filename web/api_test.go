package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/model"
)

func apiCall(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: not JSON: %s", method, url, b)
	}
	return resp.StatusCode, out
}

// The JSON API lists and reads items with their tags, owners and status
// for any token, and sets a status for a write token only.
func TestAPI(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		sc := seedScenario(t, e.st)
		if err := e.st.CreateAPIToken(ctx, "reader", "read", "est_read"); err != nil {
			t.Fatal(err)
		}
		if err := e.st.CreateAPIToken(ctx, "jira", "write", "est_write"); err != nil {
			t.Fatal(err)
		}
		if err := e.st.CreateAPIToken(ctx, "jira", "read", "est_other"); err == nil {
			t.Error("a second token named jira was created")
		}
		base := e.srv.URL + "/api/v1"
		if code, _ := apiCall(t, "GET", base+"/items", "", ""); code != 401 {
			t.Errorf("no token: %d", code)
		}
		if code, _ := apiCall(t, "GET", base+"/items", "est_wrong", ""); code != 401 {
			t.Errorf("wrong token: %d", code)
		}
		code, list := apiCall(t, "GET", base+"/items?limit=2", "est_read", "")
		items, _ := list["items"].([]any)
		if code != 200 || len(items) != 2 || list["next_after"] == nil {
			t.Fatalf("list = %d %v", code, list)
		}
		code, it := apiCall(t, "GET", fmt.Sprintf("%s/items/%d", base, sc.acme), "est_read", "")
		if code != 200 || it["status"] != "new" || fmt.Sprint(it["competitors"]) != "[Acme]" || fmt.Sprint(it["owners"]) != "[ci-team]" {
			t.Fatalf("item = %d %v", code, it)
		}
		if code, _ := apiCall(t, "GET", base+"/items/999999", "est_read", ""); code != 404 {
			t.Errorf("missing item: %d", code)
		}
		path := fmt.Sprintf("%s/items/%d/status", base, sc.acme)
		if code, _ := apiCall(t, "POST", path, "est_read", `{"status":"shipped"}`); code != 403 {
			t.Errorf("read token sets a status: %d", code)
		}
		if code, _ := apiCall(t, "POST", path, "est_write", `{"status":"done"}`); code != 422 {
			t.Errorf("unknown status: %d", code)
		}
		if code, _ := apiCall(t, "POST", path, "est_write", `not json`); code != 400 {
			t.Errorf("bad body: %d", code)
		}
		code, res := apiCall(t, "POST", path, "est_write", `{"status":"planned","note":"JIRA-42"}`)
		if code != 200 || res["changed"] != true {
			t.Fatalf("set = %d %v", code, res)
		}
		st, _ := e.st.ItemStatus(ctx, sc.acme)
		if st.Status != model.StatusPlanned || st.Note != "JIRA-42" || st.Actor != "api:jira" || st.Via != model.ViaAPI {
			t.Errorf("status = %+v", st)
		}
		code, list = apiCall(t, "GET", base+"/items?status=planned", "est_read", "")
		if items, _ := list["items"].([]any); code != 200 || len(items) != 1 {
			t.Errorf("planned items = %d %v", code, list)
		}
		if err := e.st.RevokeAPIToken(ctx, "jira"); err != nil {
			t.Fatal(err)
		}
		if code, _ := apiCall(t, "POST", path, "est_write", `{"status":"shipped"}`); code != 401 {
			t.Errorf("revoked token: %d", code)
		}
	})
}
