package api_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"testing"
)

// The app registers its Web Push subscription with the key GET /push
// gives, sees it among the devices and removes it at logout; a broken one
// is refused naming what is wrong, and another subscriber's is not found.
func TestPushAPI(t *testing.T) {
	e := newEnv(t, 1000, 1000)
	alice, bob := e.token("alice"), e.token("bob")
	r := e.do("GET", "/api/v1/push", alice, "en", nil)
	m := r.json(t)
	if r.status != 200 || m["vapid_public_key"] != e.push.PublicKey() || len(m["devices"].([]any)) != 0 {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	key, _ := ecdh.P256().GenerateKey(rand.Reader)
	sub := map[string]any{"endpoint": "https://fcm.example/send/1", "device": "Pixel 8",
		"keys": map[string]string{"p256dh": base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()), "auth": base64.RawURLEncoding.EncodeToString(make([]byte, 16))}}
	r = e.do("POST", "/api/v1/push/subscriptions", alice, "en", sub)
	if r.status != 201 || r.json(t)["device"] != "Pixel 8" {
		t.Fatalf("subscribe: %d %s", r.status, r.body)
	}
	id := int64(r.json(t)["id"].(float64))
	if r := e.do("GET", "/api/v1/push", alice, "en", nil); len(r.json(t)["devices"].([]any)) != 1 {
		t.Errorf("devices: %s", r.body)
	}
	bad := map[string]any{"endpoint": "http://fcm.example/send/2", "keys": map[string]string{"p256dh": "x", "auth": "y"}}
	if r := e.do("POST", "/api/v1/push/subscriptions", alice, "ru", bad); r.status != 422 || r.json(t)["detail"] != "Это не подписка Web Push: нужен https-адрес и ключи p256dh и auth." {
		t.Errorf("bad subscription: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", fmt.Sprintf("/api/v1/push/subscriptions/%d", id), bob, "en", nil); r.status != 404 {
		t.Errorf("bob removed alice's device: %d", r.status)
	}
	if r := e.do("DELETE", fmt.Sprintf("/api/v1/push/subscriptions/%d", id), alice, "en", nil); r.status != 204 {
		t.Errorf("remove: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/push", alice, "en", nil); len(r.json(t)["devices"].([]any)) != 0 {
		t.Errorf("devices after remove: %s", r.body)
	}
}
